package export

import (
	"bytes"
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/provhq/prov/internal/nickel/source"
)

// Format serialises d in format: json, yaml, yaml-documents, toml, text or raw.
func Format(d any, format string) ([]byte, error) {
	switch format {
	case "", "json":
		return JSON(d)
	case "yaml":
		return YAML(d)
	case "yaml-documents":
		arr, ok := d.([]any)
		if !ok {
			return nil, source.Errorf("ExportError::ExpectedArray", source.Span{}, "yaml-documents export expects an array")
		}
		var b bytes.Buffer
		for _, e := range arr {
			y, err := YAML(e)
			if err != nil {
				return nil, err
			}
			b.Write(y)
		}
		return b.Bytes(), nil
	case "toml":
		return TOML(d)
	case "text", "raw":
		return Text(d)
	}
	return nil, fmt.Errorf("unknown export format %q", format)
}

// Text exports a string as is; numbers, booleans and null as their literal text.
func Text(d any) ([]byte, error) {
	switch d := d.(type) {
	case string:
		return []byte(d), nil
	case bool:
		return []byte(strconv.FormatBool(d)), nil
	case nil:
		return []byte("null"), nil
	case *big.Rat:
		s, err := Number(d)
		return []byte(s), err
	}
	return nil, source.Errorf("ExportError::NotAString", source.Span{}, "raw export only supports primitive values: strings, numbers, booleans and null")
}

func yamlNode(d any) (*yaml.Node, error) {
	switch d := d.(type) {
	case nil:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}, nil
	case bool:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(d)}, nil
	case string:
		n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: d}
		if strings.Contains(d, "\n") {
			n.Style = yaml.LiteralStyle
		}
		return n, nil
	case *big.Rat:
		s, err := Number(d)
		if err != nil {
			return nil, err
		}
		tag := "!!int"
		if strings.ContainsAny(s, ".e") {
			tag = "!!float"
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: s}, nil
	case []any:
		n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		if len(d) == 0 {
			n.Style = yaml.FlowStyle
		}
		for _, e := range d {
			c, err := yamlNode(e)
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, c)
		}
		return n, nil
	case *Object:
		n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		if len(d.Keys) == 0 {
			n.Style = yaml.FlowStyle
		}
		for i, k := range d.Keys {
			c, err := yamlNode(d.Vals[i])
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k}, c)
		}
		return n, nil
	}
	return nil, fmt.Errorf("cannot export %T as YAML", d)
}

// YAML writes d as a YAML document the way upstream does ("---" header, block style, two-space
// indentation, sequences not indented under their key).
func YAML(d any) ([]byte, error) {
	n, err := yamlNode(d)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString("---\n")
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	enc.CompactSeqIndent()
	if err := enc.Encode(n); err != nil {
		return nil, fmt.Errorf("export yaml: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("export yaml: %w", err)
	}
	return b.Bytes(), nil
}

// TOML writes d, which must be a record, as a TOML document.
func TOML(d any) ([]byte, error) {
	o, ok := d.(*Object)
	if !ok {
		return nil, source.Errorf("ExportError::NotARecord", source.Span{}, "TOML export requires a record at the top level")
	}
	var b bytes.Buffer
	if err := writeTOMLTable(&b, o, nil); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func tomlKey(k string) string {
	if k != "" && strings.IndexFunc(k, func(r rune) bool {
		return !(r == '_' || r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	}) < 0 {
		return k
	}
	var b bytes.Buffer
	QuoteJSON(&b, k)
	return b.String()
}

func isTable(v any) bool { _, ok := v.(*Object); return ok }

func isTableArray(v any) bool {
	a, ok := v.([]any)
	if !ok || len(a) == 0 {
		return false
	}
	for _, e := range a {
		if !isTable(e) {
			return false
		}
	}
	return true
}

func writeTOMLTable(b *bytes.Buffer, o *Object, path []string) error {
	for i, k := range o.Keys {
		v := o.Vals[i]
		if isTable(v) || isTableArray(v) {
			continue
		}
		b.WriteString(tomlKey(k) + " = ")
		if err := writeTOMLValue(b, v, append(path, k)); err != nil {
			return err
		}
		b.WriteByte('\n')
	}
	for i, k := range o.Keys {
		v := o.Vals[i]
		p := append(append([]string(nil), path...), k)
		header := make([]string, len(p))
		for j, s := range p {
			header[j] = tomlKey(s)
		}
		switch {
		case isTable(v):
			// like the toml crate, a table holding only tables gets no header of its own
			if sub := v.(*Object); len(sub.Keys) == 0 || hasPlainValues(sub) {
				if b.Len() > 0 {
					b.WriteByte('\n')
				}
				b.WriteString("[" + strings.Join(header, ".") + "]\n")
			}
			if err := writeTOMLTable(b, v.(*Object), p); err != nil {
				return err
			}
		case isTableArray(v):
			for _, e := range v.([]any) {
				if b.Len() > 0 {
					b.WriteByte('\n')
				}
				b.WriteString("[[" + strings.Join(header, ".") + "]]\n")
				if err := writeTOMLTable(b, e.(*Object), p); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func hasPlainValues(o *Object) bool {
	for _, v := range o.Vals {
		if !isTable(v) && !isTableArray(v) {
			return true
		}
	}
	return false
}

func writeTOMLValue(b *bytes.Buffer, v any, path []string) error {
	switch v := v.(type) {
	case nil:
		e := source.Errorf("ExportError::UnsupportedNull", source.Span{}, "null values are not supported in TOML")
		e.Path = strings.Join(path, ".")
		return e
	case bool:
		b.WriteString(strconv.FormatBool(v))
	case string:
		QuoteJSON(b, v)
	case *big.Rat:
		s, err := Number(v)
		if err != nil {
			return err
		}
		b.WriteString(s)
	case []any:
		b.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				b.WriteString(", ")
			}
			if err := writeTOMLValue(b, e, path); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case *Object:
		b.WriteString("{ ")
		for i, k := range v.Keys {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(tomlKey(k) + " = ")
			if err := writeTOMLValue(b, v.Vals[i], append(path, k)); err != nil {
				return err
			}
		}
		b.WriteString(" }")
	}
	return nil
}
