package eval

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"time"
)

// FromData converts decoded JSON/YAML/TOML data into a Nickel value. Numbers may be float64, int64,
// uint64, int, json.Number or *big.Rat.
func FromData(d any) (Value, error) {
	switch d := d.(type) {
	case nil:
		return nil, nil
	case bool, string:
		return d, nil
	case *big.Rat:
		return d, nil
	case float64:
		if math.IsInf(d, 0) || math.IsNaN(d) {
			return nil, fmt.Errorf("number %v cannot be represented", d)
		}
		return new(big.Rat).SetFloat64(d), nil
	case float32:
		return new(big.Rat).SetFloat64(float64(d)), nil
	case int:
		return big.NewRat(int64(d), 1), nil
	case int64:
		return big.NewRat(d, 1), nil
	case uint64:
		return new(big.Rat).SetInt(new(big.Int).SetUint64(d)), nil
	case json.Number:
		r, ok := new(big.Rat).SetString(d.String())
		if !ok {
			return nil, fmt.Errorf("invalid number %s", d)
		}
		return r, nil
	case time.Time:
		return d.Format(time.RFC3339Nano), nil
	case []any:
		a := &Array{Elems: make([]*Thunk, len(d))}
		for i, e := range d {
			v, err := FromData(e)
			if err != nil {
				return nil, err
			}
			a.Elems[i] = Ready(v)
		}
		return a, nil
	case map[string]any:
		fields := make(map[string]*Thunk, len(d))
		for k, e := range d {
			v, err := FromData(e)
			if err != nil {
				return nil, err
			}
			fields[k] = Ready(v)
		}
		return NewRecord(fields), nil
	case map[any]any:
		fields := make(map[string]*Thunk, len(d))
		for k, e := range d {
			v, err := FromData(e)
			if err != nil {
				return nil, err
			}
			fields[fmt.Sprint(k)] = Ready(v)
		}
		return NewRecord(fields), nil
	}
	return nil, fmt.Errorf("unsupported data of type %T", d)
}

// ParseNumber parses a decimal number literal exactly.
func ParseNumber(s string) (*big.Rat, bool) {
	if _, err := strconv.ParseFloat(s, 64); err != nil {
		if ne, ok := err.(*strconv.NumError); !ok || ne.Err != strconv.ErrRange {
			return nil, false
		}
	}
	return new(big.Rat).SetString(s)
}
