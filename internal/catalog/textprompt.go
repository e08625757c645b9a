package catalog

import (
	"github.com/goccy/go-yaml/ast"

	"github.com/ivrhq/ivr/internal/prompts"
)

// promptDoc is a prompt as written: Asterisk sound names (a single value), or
// text, either one mapping {text, language} or a list of them, one per
// language, the first the default.
type promptDoc struct {
	scalar
	texts []textDoc
}

// textDoc is a text prompt's words in one language.
type textDoc struct {
	Text     scalar `yaml:"text"`
	Language scalar `yaml:"language"`
	lined    `yaml:"-"`
}

// UnmarshalYAML implements yaml.NodeUnmarshaler.
func (d *textDoc) UnmarshalYAML(n ast.Node) (err error) {
	type plain textDoc
	d.line, err = decodeLined(n, (*plain)(d))
	return err
}

// UnmarshalYAML implements yaml.NodeUnmarshaler.
func (p *promptDoc) UnmarshalYAML(n ast.Node) error {
	switch n.(type) {
	case *ast.MappingNode:
		var t textDoc
		if err := t.UnmarshalYAML(n); err != nil {
			return err
		}
		p.line, p.texts = t.line, []textDoc{t}
		return nil
	case *ast.SequenceNode:
		p.line = n.GetToken().Position.Line
		_, err := decodeLined(n, &p.texts)
		return err
	}
	return p.scalar.UnmarshalYAML(n)
}

// IsZero lets omitempty leave out an empty prompt.
func (p promptDoc) IsZero() bool { return p.s == "" && len(p.texts) == 0 }

// sound is a prompt of sound names s, as a file that was read from the
// database says it.
func sound(s string) promptDoc { return promptDoc{scalar: str(s)} }

// checkTextPrompt reports the mistakes in a text prompt and returns the sound
// name Options.TextPrompt gives it, "" when there are mistakes.
func (v *validator) checkTextPrompt(what string, p promptDoc) string {
	var pr prompts.Prompt
	ok := true
	for _, t := range p.texts {
		if t.Language.s == "" {
			v.add(t.line, "%s: text prompt %q has no language (such as language: en)", what, t.Text.s)
			ok = false
		}
		pr.Texts = append(pr.Texts, prompts.Text{Language: t.Language.s, Words: t.Text.s})
	}
	if !ok {
		return ""
	}
	if err := pr.Check(); err != nil {
		v.add(p.line, "%s: %v", what, err)
		return ""
	}
	if v.opts.TextPrompt == nil {
		v.add(p.line, "%s: a text prompt is rendered into a prompts directory: give one with --prompts-dir or IVR_PROMPTS_DIR", what)
		return ""
	}
	return v.opts.TextPrompt(pr)
}
