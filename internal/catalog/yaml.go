package catalog

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
)

// scalar is a YAML scalar kept as written ("01" stays "01", 5s stays "5s"),
// with the line it stands on so that a problem with the value can name it.
type scalar struct {
	s    string
	line int
}

// UnmarshalYAML implements yaml.NodeUnmarshaler.
func (v *scalar) UnmarshalYAML(n ast.Node) error {
	v.line = n.GetToken().Position.Line
	switch n := n.(type) {
	case *ast.StringNode:
		v.s = n.Value
	case *ast.LiteralNode: // a block scalar, | or >
		v.s = n.Value.Value
	case *ast.NullNode:
		v.s = ""
	case ast.ScalarNode:
		v.s = n.GetToken().Value
	default:
		return &yamlError{line: v.line, msg: fmt.Sprintf("want a single value, not a %s", strings.ToLower(n.Type().String()))}
	}
	return nil
}

// MarshalYAML implements yaml.InterfaceMarshaler.
func (v scalar) MarshalYAML() (any, error) { return v.s, nil }

// IsZero lets omitempty leave out empty values.
func (v scalar) IsZero() bool { return v.s == "" }

func str(s string) scalar { return scalar{s: s} }

// lined records the line a mapping starts on. Types embedding it decode through
// decodeLined.
type lined struct{ line int }

// decodeLined decodes the mapping n into v (a pointer to a struct without an
// UnmarshalYAML method), strictly, and returns the line n starts on.
func decodeLined(n ast.Node, v any) (int, error) {
	if err := yaml.NodeToValue(n, v, yaml.Strict()); err != nil {
		return 0, err
	}
	return n.GetToken().Position.Line, nil
}

type menusFile struct {
	Menus []menuDoc `yaml:"menus"`
}

type menuDoc struct {
	Key           scalar      `yaml:"key"`
	Prompt        promptDoc   `yaml:"prompt"`
	InvalidPrompt promptDoc   `yaml:"invalid_prompt,omitempty"`
	TimeoutPrompt promptDoc   `yaml:"timeout_prompt,omitempty"`
	Timeout       scalar      `yaml:"timeout,omitempty"`
	MaxDigits     whole       `yaml:"max_digits,omitempty"`
	MaxAttempts   whole       `yaml:"max_attempts,omitempty"`
	OnFailure     scalar      `yaml:"on_failure,omitempty"`
	Options       []optionDoc `yaml:"options"`
	lined         `yaml:"-"`
}

// UnmarshalYAML implements yaml.NodeUnmarshaler.
func (m *menuDoc) UnmarshalYAML(n ast.Node) (err error) {
	type plain menuDoc
	m.line, err = decodeLined(n, (*plain)(m))
	return err
}

type optionDoc struct {
	Digits   scalar     `yaml:"digits"`
	Action   scalar     `yaml:"action"`
	Target   scalar     `yaml:"target,omitempty"`
	Label    scalar     `yaml:"label,omitempty"`
	Schedule scalar     `yaml:"schedule,omitempty"`
	Closed   *branchDoc `yaml:"closed,omitempty"`
	Holiday  *branchDoc `yaml:"holiday,omitempty"`
	lined    `yaml:"-"`
}

// UnmarshalYAML implements yaml.NodeUnmarshaler.
func (o *optionDoc) UnmarshalYAML(n ast.Node) (err error) {
	type plain optionDoc
	o.line, err = decodeLined(n, (*plain)(o))
	return err
}

type surveysFile struct {
	Surveys []surveyDoc `yaml:"surveys"`
}

type surveyDoc struct {
	Key            scalar        `yaml:"key"`
	IntroPrompt    promptDoc     `yaml:"intro_prompt,omitempty"`
	ThankYouPrompt promptDoc     `yaml:"thank_you_prompt,omitempty"`
	Questions      []questionDoc `yaml:"questions"`
	lined          `yaml:"-"`
}

// UnmarshalYAML implements yaml.NodeUnmarshaler.
func (s *surveyDoc) UnmarshalYAML(n ast.Node) (err error) {
	type plain surveyDoc
	s.line, err = decodeLined(n, (*plain)(s))
	return err
}

type questionDoc struct {
	Key           scalar    `yaml:"key"`
	Prompt        promptDoc `yaml:"prompt"`
	AllowedDigits scalar    `yaml:"allowed_digits,omitempty"`
	Range         *rangeDoc `yaml:"range,omitempty"`
	Required      bool      `yaml:"required,omitempty"`
	lined         `yaml:"-"`
}

// UnmarshalYAML implements yaml.NodeUnmarshaler.
func (q *questionDoc) UnmarshalYAML(n ast.Node) (err error) {
	type plain questionDoc
	q.line, err = decodeLined(n, (*plain)(q))
	return err
}

type rangeDoc struct {
	Min int `yaml:"min"`
	Max int `yaml:"max"`
}

// yamlError is a problem found while decoding, before validation.
type yamlError struct {
	line int
	msg  string
}

func (e *yamlError) Error() string { return e.msg }

// decode parses data into v strictly (unknown fields are mistakes) and turns a
// decoding error into a Problem at its line.
func decode(name string, data []byte, v any) error {
	err := yaml.UnmarshalWithOptions(data, v, yaml.Strict())
	if err == nil {
		return nil
	}
	p := Problem{File: name, Message: err.Error()}
	var ye yaml.Error
	var le *yamlError
	var te *yaml.TypeError
	switch {
	case errors.As(err, &le):
		p.Line, p.Message = le.line, le.msg
	case errors.As(err, &te) && te.Token != nil:
		p.Line = te.Token.Position.Line
		p.Message = fmt.Sprintf("%q is not %s", te.Token.Value, kindName(te.DstType))
	case errors.As(err, &ye):
		if tok := ye.GetToken(); tok != nil {
			p.Line = tok.Position.Line
		}
		p.Message = ye.GetMessage()
	}
	return withHints(data, Problems{p})
}

// whole is a YAML whole number with the line it stands on.
type whole struct {
	n    int
	line int
}

// UnmarshalYAML implements yaml.NodeUnmarshaler.
func (w *whole) UnmarshalYAML(n ast.Node) error {
	w.line = n.GetToken().Position.Line
	if in, ok := n.(*ast.IntegerNode); ok {
		switch v := in.Value.(type) {
		case int64:
			w.n = int(v)
			return nil
		case uint64:
			w.n = int(v)
			return nil
		}
	}
	return &yamlError{line: w.line, msg: fmt.Sprintf("%q is not a whole number", n.GetToken().Value)}
}

// MarshalYAML implements yaml.InterfaceMarshaler.
func (w whole) MarshalYAML() (any, error) { return w.n, nil }

// IsZero lets omitempty leave out zero.
func (w whole) IsZero() bool { return w.n == 0 }

// lineOr returns the line w stands on, or def when it is not in the file.
func (w whole) lineOr(def int) int {
	if w.line == 0 {
		return def
	}
	return w.line
}

// kindName says in words what a value of type t looks like in YAML.
func kindName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int64, reflect.Int32:
		return "a whole number"
	case reflect.Slice:
		return "a list"
	case reflect.Struct, reflect.Map, reflect.Pointer:
		return "a mapping of names to values"
	}
	return "a single value"
}

// encode writes v as YAML, two spaces a level, sequences indented under their key.
func encode(v any) ([]byte, error) {
	return yaml.MarshalWithOptions(v, yaml.Indent(2), yaml.IndentSequence(true))
}
