package rules

import "strconv"

// Decision is the answer of [Table.Choose]: the runtime, the rule that chose
// it, and what the sentence of [Decision.Reason] needs. It holds only strings
// that already existed in the model and the table, so making one allocates
// nothing.
type Decision struct {
	Runtime string // the chosen runtime
	Rule    string // the rule that decided, or FallbackRule

	// Fallback is true when no rule decided and the fallback runtime was
	// named (possibly while disabled: see Enabled below).
	Fallback bool
	// Enabled reports whether Runtime is enabled; only the fallback can name
	// a disabled runtime.
	Enabled bool

	Field       string // model field that matched ("architecture", "model_type", ...); empty for a catch-all
	Value       string // the model's value of Field
	Token       string // the rule value that matched, as the rule spells it
	Description string // the deciding rule's description

	// Skipped is the first rule that matched but whose runtime is disabled;
	// empty when none was skipped.
	Skipped        string
	SkippedRuntime string
}

// Choose decides which runtime serves m: the first rule of the table that
// matches m and whose runtime is enabled in en. A rule matches when any of its
// fields matches the model's value for that field, under the token rule
// described on [Match]; names are consulted only for a model that has neither
// an architecture nor a model_type, because a model's name says less than its
// config and "bert-resnet-hybrid" should not decide. A catch-all matches every
// model. When no rule decides, the fallback does: runtime [FallbackRuntime],
// rule [FallbackRule].
//
// Choose allocates nothing and reads nothing but its arguments.
func (t *Table) Choose(m Model, en Enabled) Decision {
	var toks [numFields]tokens
	var masks [numFields]uint64
	for f := range numFields {
		if !t.used[f] || (f == fieldName && (m.Architecture != "" || m.ModelType != "")) {
			continue
		}
		toks[f].split(m.value(f))
		masks[f] = toks[f].mask
	}
	var d Decision
	for i := range t.compiled {
		c := &t.compiled[i]
		r := &t.rules[i]
		var f field
		var w *word
		if !c.any {
			if f, w = c.match(&toks, &masks); w == nil {
				continue
			}
		}
		if !en.Has(r.Runtime) {
			if d.Skipped == "" {
				d.Skipped, d.SkippedRuntime = r.Name, r.Runtime
			}
			continue
		}
		d.Runtime, d.Rule, d.Enabled, d.Description = r.Runtime, r.Name, true, r.Description
		if w != nil {
			d.Field, d.Value, d.Token = fieldNames[f], m.value(f), w.orig
		}
		return d
	}
	d.Runtime, d.Rule, d.Fallback, d.Enabled = FallbackRuntime, FallbackRule, true, en.Has(FallbackRuntime)
	return d
}

// match returns the first field and word of c that match the model's split
// fields, or a nil word.
func (c *compiledRule) match(toks *[numFields]tokens, masks *[numFields]uint64) (field, *word) {
	for f := range numFields {
		cf := &c.fields[f]
		if cf.mask&masks[f] == 0 {
			continue
		}
		for k := range cf.words {
			if w := &cf.words[k]; w.bit&masks[f] != 0 && toks[f].match(w.norm) {
				return f, w
			}
		}
	}
	return 0, nil
}

// Reason says in one sentence why d was made, for example
//
//	architecture "GPT2LMHeadModel" matches "gpt2" of rule "llm-families" (LLM family); vLLM is enabled
//
// It is formatted when called, not when the decision is made, by appends rather than fmt: every
// ChooseRuntime answer carries one.
func (d Decision) Reason() string {
	b := make([]byte, 0, 160)
	switch {
	case d.Fallback:
		b = append(b, "no rule matches with an enabled runtime, so the fallback "...)
		b = append(b, runtimeTitle(d.Runtime)...)
		b = append(b, " serves it"...)
		if !d.Enabled {
			b = append(b, " although it is disabled"...)
		}
	case d.Field == "":
		b = strconv.AppendQuote(append(b, "rule "...), d.Rule)
		b = append(append(append(b, " matches every model ("...), d.Description...), "); "...)
		b = append(append(b, runtimeTitle(d.Runtime)...), " is enabled"...)
	default:
		b = strconv.AppendQuote(append(append(b, d.Field...), ' '), d.Value)
		b = strconv.AppendQuote(append(b, " matches "...), d.Token)
		b = strconv.AppendQuote(append(b, " of rule "...), d.Rule)
		b = append(append(append(b, " ("...), d.Description...), "); "...)
		b = append(append(b, runtimeTitle(d.Runtime)...), " is enabled"...)
	}
	if d.Skipped != "" {
		b = strconv.AppendQuote(append(b, " (rule "...), d.Skipped)
		b = append(append(append(b, " matched first but "...), runtimeTitle(d.SkippedRuntime)...), " is disabled)"...)
	}
	return string(b)
}
