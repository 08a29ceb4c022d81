package fn

import (
	"math"
	"strconv"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// A fieldReader reads typed values out of an unstructured object, such as a
// DataVisualisation's spec.imDataManager, and records an error naming the
// field and its value for each value of the wrong type. A value that is
// absent is not an error: the caller decides what is required.
type fieldReader struct {
	errs field.ErrorList
}

// object returns the object at key of m, or nil when it is absent.
func (r *fieldReader) object(m map[string]any, p *field.Path, key string) (map[string]any, *field.Path) {
	fp := p.Child(key)
	v, ok := m[key]
	if !ok || v == nil {
		return nil, fp
	}
	o, ok := v.(map[string]any)
	if !ok {
		r.errs = append(r.errs, field.TypeInvalid(fp, v, "must be an object"))
		return nil, fp
	}
	return o, fp
}

// str returns the string at key of m, and whether it is present and not
// empty.
func (r *fieldReader) str(m map[string]any, p *field.Path, key string) (Setting[string], bool) {
	fp := p.Child(key)
	v, ok := m[key]
	if !ok || v == nil {
		return Setting[string]{From: fp}, false
	}
	s, ok := v.(string)
	if !ok {
		r.errs = append(r.errs, field.TypeInvalid(fp, v, "must be a string"))
		return Setting[string]{From: fp}, false
	}
	return Setting[string]{Value: s, From: fp}, s != ""
}

// quantity returns the resource quantity at key of m as a string, and whether
// it is present. Like Kubernetes, it takes a whole number for a quantity too.
func (r *fieldReader) quantity(m map[string]any, p *field.Path, key string) (Setting[string], bool) {
	if n, ok := m[key].(float64); ok && n == math.Trunc(n) && math.Abs(n) < 1<<53 {
		return Setting[string]{Value: strconv.FormatInt(int64(n), 10), From: p.Child(key)}, true
	}
	return r.str(m, p, key)
}

// integer returns the whole number at key of m, and whether it is present.
func (r *fieldReader) integer(m map[string]any, p *field.Path, key string) (Setting[int64], bool) {
	fp := p.Child(key)
	v, ok := m[key]
	if !ok || v == nil {
		return Setting[int64]{From: fp}, false
	}
	switch n := v.(type) {
	case float64: // JSON and protobuf numbers.
		if n == math.Trunc(n) && n >= math.MinInt64 && n < math.MaxInt64 {
			return Setting[int64]{Value: int64(n), From: fp}, true
		}
	case int64:
		return Setting[int64]{Value: n, From: fp}, true
	case int:
		return Setting[int64]{Value: int64(n), From: fp}, true
	}
	r.errs = append(r.errs, field.TypeInvalid(fp, v, "must be a whole number"))
	return Setting[int64]{From: fp}, false
}

// strings returns the list of strings at key of m, each with its own path,
// and whether the list is present (it may be empty).
func (r *fieldReader) strings(m map[string]any, p *field.Path, key string) ([]Setting[string], bool) {
	fp := p.Child(key)
	v, ok := m[key]
	if !ok || v == nil {
		return nil, false
	}
	list, ok := v.([]any)
	if !ok {
		r.errs = append(r.errs, field.TypeInvalid(fp, v, "must be a list of strings"))
		return nil, false
	}
	out := make([]Setting[string], 0, len(list))
	for i, e := range list {
		s, ok := e.(string)
		if !ok {
			r.errs = append(r.errs, field.TypeInvalid(fp.Index(i), e, "must be a string"))
			continue
		}
		out = append(out, Setting[string]{Value: s, From: fp.Index(i)})
	}
	return out, true
}
