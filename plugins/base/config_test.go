package base

import (
	"errors"
	"slices"
	"testing"
)

func TestEachConfigKey(t *testing.T) {
	config := map[string]string{"b": " two ", "a": "one", "c": ""}
	var got []ConfigKey
	err := EachConfigKey(config, "test-plugin", []string{"a", "b", "c", "d"}, func(k ConfigKey) error {
		got = append(got, k)
		return nil
	})
	want := []ConfigKey{{"a", "one", "one"}, {"b", "two", " two "}, {"c", "", ""}}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("EachConfigKey passed %+v, %v; want %+v in that order", got, err, want)
	}
}

func TestEachConfigKeyStopsAtTheFirstError(t *testing.T) {
	config := map[string]string{"a": "1", "b": "2", "colour": "red", "d": "4"}
	known := []string{"a", "b", "d"}
	var seen []string
	err := EachConfigKey(config, "test-plugin", known, func(k ConfigKey) error {
		seen = append(seen, k.Name)
		return nil
	})
	if err == nil || err.Error() != "config key colour: unknown to test-plugin" {
		t.Errorf("unknown key: err = %v, want config key colour: unknown to test-plugin", err)
	}
	if !slices.Equal(seen, []string{"a", "b"}) {
		t.Errorf("before the unknown key fn saw %v, want [a b]", seen)
	}

	errB := errors.New("b is wrong")
	seen = nil
	err = EachConfigKey(config, "test-plugin", append(known, "colour"), func(k ConfigKey) error {
		seen = append(seen, k.Name)
		if k.Name == "b" {
			return errB
		}
		return nil
	})
	if err != errB || !slices.Equal(seen, []string{"a", "b"}) {
		t.Errorf("fn failing at b: err = %v after %v, want %v after [a b]", err, seen, errB)
	}
}

func TestConfigKeyBad(t *testing.T) {
	k := ConfigKey{Name: "paper", Value: "x", raw: " x"}
	if err := k.Bad("a number of receipts"); err == nil || err.Error() != `config key paper: " x" is not a number of receipts` {
		t.Errorf("Bad = %v", err)
	}
}

func TestConfigKeyBool(t *testing.T) {
	for value, want := range map[string]bool{"true": true, "false": false} {
		if got, err := (ConfigKey{Name: "k", Value: value, raw: value}).Bool(); err != nil || got != want {
			t.Errorf("Bool of %q = %v, %v; want %v", value, got, err, want)
		}
	}
	for _, value := range []string{"", "yes", "1", "True"} {
		_, err := (ConfigKey{Name: "drawer", Value: value, raw: value}).Bool()
		if want := `config key drawer: "` + value + `" is not true or false`; err == nil || err.Error() != want {
			t.Errorf("Bool of %q: err = %v, want %s", value, err, want)
		}
	}
}
