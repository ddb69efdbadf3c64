package rules

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Match says which models a [Rule] applies to. Within a field the values are
// alternatives, and a rule matches when any of its fields matches; Names are
// consulted only for a model with neither architecture nor model_type (see
// [Table.Choose]).
//
// Values match whole tokens, ignoring ASCII case. A model's identifier is
// split into tokens
//   - at every byte that is not an ASCII letter or digit ("gpt_neox" ->
//     gpt|neox, "bert-base" -> bert|base);
//   - where a lowercase letter is followed by an uppercase one ("MoeFor" ->
//     Moe|For);
//   - before the last capital of a run of capitals followed by a lowercase
//     letter ("LMHead" -> LM|Head, "GPTNeoX" -> GPT|Neo|X);
//   - between a letter and a digit, both ways ("resnet50" -> resnet|50,
//     "GPT2LMHeadModel" -> GPT|2|LM|Head|Model).
//
// A rule value, lowercased and stripped of everything but letters and digits
// ("gpt-neox" -> "gptneox"), matches when it equals the concatenation of one
// or more consecutive tokens. So "gpt2" and "gpt" both match
// "GPT2LMHeadModel", "gptneox" matches "gpt_neox" and "GPTNeoXForCausalLM",
// "resnet" matches "resnet50", "qwen2moe" matches "Qwen2MoeForCausalLM"; but
// "opt" never matches "optimizer", nor "bert" "albert", because a match starts
// and ends on token boundaries.
//
// A catch-all is written explicitly as Match{Any: true} (any: true in YAML)
// and may carry no other values; a Match with no values and Any unset is an
// error, so that a typo in a table cannot silently make a catch-all.
//
// The struct tags are the keys of a `runtime_rules` entry in the brain's YAML configuration, which
// decodes straight into these types.
type Match struct {
	Architectures []string `yaml:"architectures,omitempty,flow"` // config.json architectures[0], e.g. "LlamaForCausalLM"
	ModelTypes    []string `yaml:"model_types,omitempty,flow"`   // config.json model_type, e.g. "llama"
	Names         []string `yaml:"names,omitempty,flow"`         // the model's id; consulted only when the model has neither architecture nor model_type
	Formats       []string `yaml:"formats,omitempty,flow"`       // weight format, e.g. "onnx", "gguf"
	Tasks         []string `yaml:"tasks,omitempty,flow"`         // e.g. "text-generation", "embedding"
	Any           bool     `yaml:"any,omitempty"`                // matches every model; no other field may be set
}

// Rule is one named line of a runtime table: models that match go to Runtime.
type Rule struct {
	Name        string `yaml:"name"`                  // unique in its table; decisions name it
	Runtime     string `yaml:"runtime"`               // RuntimeVLLM, RuntimeRay or RuntimeTriton
	Match       Match  `yaml:"match"`                 // what the rule matches
	Description string `yaml:"description,omitempty"` // what the rule is about, in a few words; decisions quote it
}

// clone returns a copy of r that shares no slice with it.
func (r Rule) clone() Rule {
	r.Match.Architectures = slices.Clone(r.Match.Architectures)
	r.Match.ModelTypes = slices.Clone(r.Match.ModelTypes)
	r.Match.Names = slices.Clone(r.Match.Names)
	r.Match.Formats = slices.Clone(r.Match.Formats)
	r.Match.Tasks = slices.Clone(r.Match.Tasks)
	return r
}

// field identifies a model field that a rule can match on, in the order a
// decision consults them.
type field int

const (
	fieldArchitecture field = iota
	fieldModelType
	fieldName
	fieldFormat
	fieldTask
	numFields
)

// fieldNames are the names a decision's sentence uses for each field.
var fieldNames = [numFields]string{"architecture", "model_type", "name", "format", "task"}

// values returns the match values of m for f.
func (m *Match) values(f field) []string {
	switch f {
	case fieldArchitecture:
		return m.Architectures
	case fieldModelType:
		return m.ModelTypes
	case fieldName:
		return m.Names
	case fieldFormat:
		return m.Formats
	}
	return m.Tasks
}

// value returns the model's value for f.
func (m *Model) value(f field) string {
	switch f {
	case fieldArchitecture:
		return m.Architecture
	case fieldModelType:
		return m.ModelType
	case fieldName:
		return m.Name
	case fieldFormat:
		return m.Format
	}
	return m.Task
}

// word is a rule value ready for matching.
type word struct {
	norm string // lowercase letters and digits only
	orig string // as written in the rule, for decisions
	bit  uint64 // charBit of norm[0]
}

// compiledField holds the words of one field of one rule.
type compiledField struct {
	mask  uint64 // union of the words' bits: a fast "cannot match"
	words []word
}

// compiledRule is a Rule prepared at NewTable time, so that Choose only
// compares bytes.
type compiledRule struct {
	any    bool
	fields [numFields]compiledField
}

// Table is a validated, ordered runtime rule table. It is immutable and safe
// for concurrent use.
type Table struct {
	rules    []Rule
	compiled []compiledRule
	used     [numFields]bool // whether any rule matches on the field; Choose skips the others
}

// RuleError says what is wrong with one rule of a table. Index counts from 0;
// it is -1 for a problem of the table as a whole.
type RuleError struct {
	Index int
	Name  string
	Msg   string
}

// Error implements error.
func (e *RuleError) Error() string {
	if e.Index < 0 {
		return "rule table: " + e.Msg
	}
	return fmt.Sprintf("rule %d %q: %s", e.Index, e.Name, e.Msg)
}

// NewTable validates rs and prepares it for [Table.Choose]. It reports every
// problem it finds, each as a *[RuleError] (joined with [errors.Join]): an
// empty table, an empty or duplicate name, an unknown runtime, a match with no
// values that is not an explicit catch-all, a catch-all with values, a value
// with no letter or digit, and a rule that can never decide because an
// earlier catch-all sends every model to the same runtime. The table keeps
// its own copy of rs.
func NewTable(rs []Rule) (*Table, error) {
	var errs []error
	bad := func(i int, name, format string, args ...any) {
		errs = append(errs, &RuleError{Index: i, Name: name, Msg: fmt.Sprintf(format, args...)})
	}
	if len(rs) == 0 {
		bad(-1, "", "no rules: every model would go to the fallback %s", FallbackRuntime)
	}
	t := &Table{rules: make([]Rule, len(rs)), compiled: make([]compiledRule, len(rs))}
	seen := make(map[string]int, len(rs))
	catchAll := make(map[string]int) // runtime -> index of the first catch-all sending there
	for i, r := range rs {
		r = r.clone()
		t.rules[i] = r
		switch prev, dup := seen[r.Name]; {
		case r.Name == "":
			bad(i, r.Name, "empty name")
		case dup:
			bad(i, r.Name, "duplicate name (also rule %d)", prev)
		default:
			seen[r.Name] = i
		}
		if !slices.Contains(runtimes[:], r.Runtime) {
			bad(i, r.Name, "unknown runtime %q (allowed: %s)", r.Runtime, strings.Join(runtimes[:], ", "))
		}
		if j, ok := catchAll[r.Runtime]; ok {
			bad(i, r.Name, "unreachable: catch-all rule %d %q already sends every model to %s", j, rs[j].Name, r.Runtime)
		}
		c := &t.compiled[i]
		c.any = r.Match.Any
		n := 0
		for f := range numFields {
			for _, v := range r.Match.values(f) {
				norm := normalize(v)
				if norm == "" {
					bad(i, r.Name, "%s value %q has no letter or digit", fieldNames[f], v)
					continue
				}
				w := word{norm: norm, orig: v, bit: charBit(norm[0])}
				c.fields[f].words = append(c.fields[f].words, w)
				c.fields[f].mask |= w.bit
				t.used[f] = true
				n++
			}
		}
		switch {
		case r.Match.Any && n > 0:
			bad(i, r.Name, "a catch-all (any: true) cannot also list values")
		case r.Match.Any:
			if _, ok := catchAll[r.Runtime]; !ok {
				catchAll[r.Runtime] = i
			}
		case n == 0:
			bad(i, r.Name, "empty match: list values, or write any: true for a catch-all")
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return t, nil
}

// MustNewTable is [NewTable] for tables known to be valid, such as
// [DefaultRules]; it panics on an invalid table.
func MustNewTable(rs []Rule) *Table {
	t, err := NewTable(rs)
	if err != nil {
		panic(err)
	}
	return t
}

// Rules returns a copy of the table's rules, in order.
func (t *Table) Rules() []Rule {
	out := make([]Rule, len(t.rules))
	for i, r := range t.rules {
		out[i] = r.clone()
	}
	return out
}
