package fn

import (
	"math"
	"reflect"
	"strconv"
	"strings"

	"google.golang.org/protobuf/types/known/structpb"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// A decoder fills a Go struct from a protobuf struct, field by field, by the
// struct's JSON names. Unlike encoding/json it goes on after a value of the
// wrong type, and records an error for each that names the field and its
// value. A field that is absent or null is left as it is.
type decoder struct {
	errs field.ErrorList
}

var (
	quantityType = reflect.TypeFor[quantity]()
	int64Type    = reflect.TypeFor[int64]()
)

// object decodes s into dst, a pointer to a struct.
func (d *decoder) object(s *structpb.Struct, p *field.Path, dst any) {
	d.structFields(s, p, reflect.ValueOf(dst).Elem())
}

func (d *decoder) structFields(s *structpb.Struct, p *field.Path, dst reflect.Value) {
	t := dst.Type()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		v, ok := s.GetFields()[name]
		if !ok {
			continue
		}
		var fp *field.Path
		if p == nil {
			fp = field.NewPath(name)
		} else {
			fp = p.Child(name)
		}
		d.value(v, fp, dst.Field(i))
	}
}

func (d *decoder) value(v *structpb.Value, p *field.Path, dst reflect.Value) {
	if _, null := v.GetKind().(*structpb.Value_NullValue); null {
		return
	}
	switch {
	case dst.Type() == quantityType:
		if n, ok := v.GetKind().(*structpb.Value_NumberValue); ok && n.NumberValue == math.Trunc(n.NumberValue) && math.Abs(n.NumberValue) < 1<<53 {
			dst.SetString(strconv.FormatInt(int64(n.NumberValue), 10))
			return
		}
		d.str(v, p, dst)
	case dst.Kind() == reflect.String:
		d.str(v, p, dst)
	case dst.Kind() == reflect.Pointer && dst.Type().Elem() == int64Type:
		n, ok := v.GetKind().(*structpb.Value_NumberValue)
		if !ok || n.NumberValue != math.Trunc(n.NumberValue) || n.NumberValue < math.MinInt64 || n.NumberValue >= math.MaxInt64 {
			d.invalid(p, v, "must be a whole number")
			return
		}
		i := int64(n.NumberValue)
		dst.Set(reflect.ValueOf(&i))
	case dst.Kind() == reflect.Slice:
		list := v.GetListValue()
		if list == nil {
			d.invalid(p, v, "must be a list of strings")
			return
		}
		out := reflect.MakeSlice(dst.Type(), 0, len(list.GetValues()))
		for i, e := range list.GetValues() {
			s, ok := e.GetKind().(*structpb.Value_StringValue)
			if !ok {
				d.invalid(p.Index(i), e, "must be a string")
				continue
			}
			out = reflect.Append(out, reflect.ValueOf(s.StringValue))
		}
		dst.Set(out)
	case dst.Kind() == reflect.Struct:
		s := v.GetStructValue()
		if s == nil {
			d.invalid(p, v, "must be an object")
			return
		}
		d.structFields(s, p, dst)
	}
}

func (d *decoder) str(v *structpb.Value, p *field.Path, dst reflect.Value) {
	s, ok := v.GetKind().(*structpb.Value_StringValue)
	if !ok {
		d.invalid(p, v, "must be a string")
		return
	}
	dst.SetString(s.StringValue)
}

func (d *decoder) invalid(p *field.Path, v *structpb.Value, msg string) {
	d.errs = append(d.errs, field.TypeInvalid(p, v.AsInterface(), msg))
}
