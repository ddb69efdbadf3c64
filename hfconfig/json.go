package hfconfig

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
)

// Inputs of Analyze, as a ConfigError names them.
const (
	InputConfig = "config" // config.json
	InputIndex  = "index"  // model.safetensors.index.json or pytorch_model.bin.index.json
)

// ConfigError says why an input of [Analyze] cannot be read. Offset is the
// 0-based offset of the offending byte (the input's length when it ends too
// early), Line and Column its 1-based position;
// all three are 0 when the problem has no position (such as a missing key).
// Field is the JSON key concerned, when there is one.
type ConfigError struct {
	Input  string // InputConfig or InputIndex
	Field  string
	Offset int64
	Line   int
	Column int
	Msg    string
	Err    error // the underlying encoding/json error, if any
}

// Error implements error.
func (e *ConfigError) Error() string {
	s := e.Input
	if e.Field != "" {
		s += " field " + e.Field
	}
	if e.Line > 0 {
		s += fmt.Sprintf(" at line %d, column %d (byte %d)", e.Line, e.Column, e.Offset)
	}
	return s + ": " + e.Msg
}

// Unwrap returns the underlying encoding/json error.
func (e *ConfigError) Unwrap() error { return e.Err }

// object is a decoded JSON object whose numbers are json.Number.
type object map[string]any

// parseObject decodes data, which must hold exactly one JSON object.
func parseObject(input string, data []byte) (object, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	if err == nil {
		// Anything but white space after the object is an error too.
		if _, err2 := dec.Token(); err2 != io.EOF {
			off := dec.InputOffset()
			return nil, positioned(input, data, off, "unexpected data after the top-level value", err2)
		}
	}
	if err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			// Offset counts the bytes read, the offending one included.
			return nil, positioned(input, data, se.Offset-1, se.Error(), err)
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, positioned(input, data, int64(len(data)), "unexpected end of JSON input", err)
		}
		return nil, &ConfigError{Input: input, Msg: err.Error(), Err: err}
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, positioned(input, data, firstNonSpace(data), "top-level value is not a JSON object", nil)
	}
	return object(obj), nil
}

// positioned builds a ConfigError at byte offset off of data.
func positioned(input string, data []byte, off int64, msg string, err error) *ConfigError {
	off = max(0, min(off, int64(len(data))))
	line, col := 1, 1
	for _, c := range data[:off] {
		if c == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return &ConfigError{Input: input, Offset: off, Line: line, Column: col, Msg: msg, Err: err}
}

// firstNonSpace is the offset of the first byte of data that is not JSON white space.
func firstNonSpace(data []byte) int64 {
	for i, c := range data {
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return int64(i)
		}
	}
	return int64(len(data))
}

// float returns the first of keys that holds a finite number.
func (o object) float(keys ...string) (float64, bool) {
	for _, k := range keys {
		if n, ok := o[k].(json.Number); ok {
			if f, err := strconv.ParseFloat(string(n), 64); err == nil && !math.IsInf(f, 0) {
				return f, true
			}
		}
	}
	return 0, false
}

// count returns the first of keys that holds a positive whole number.
func (o object) count(keys ...string) (int64, bool) {
	for _, k := range keys {
		if f, ok := o.float(k); ok && f >= 1 && f == math.Trunc(f) && f < 1<<53 {
			return int64(f), true
		}
	}
	return 0, false
}

// str returns the first of keys that holds a non-empty string.
func (o object) str(keys ...string) (string, bool) {
	for _, k := range keys {
		if s, ok := o[k].(string); ok && s != "" {
			return s, true
		}
	}
	return "", false
}

// boolean returns the value of key, or def when it is absent or not a boolean.
func (o object) boolean(key string, def bool) bool {
	if b, ok := o[key].(bool); ok {
		return b
	}
	return def
}

// sub returns the nested object under key, if any.
func (o object) sub(key string) (object, bool) {
	m, ok := o[key].(map[string]any)
	return object(m), ok
}

// counts returns the array under key when every element is a positive whole number.
func (o object) counts(key string) ([]int64, bool) {
	arr, ok := o[key].([]any)
	if !ok || len(arr) == 0 {
		return nil, false
	}
	out := make([]int64, len(arr))
	for i, v := range arr {
		one, ok := object{"v": v}.count("v")
		if !ok {
			return nil, false
		}
		out[i] = one
	}
	return out, true
}

// has reports whether key is present with a non-null value.
func (o object) has(key string) bool {
	v, ok := o[key]
	return ok && v != nil
}
