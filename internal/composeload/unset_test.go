package composeload

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// TestUnsetVariablesGiveOneLine: values left empty by unset variables are
// rejected by their types once per use (per service, through an anchor);
// those conversion errors collapse into the one "variable X is not set"
// note per variable, the same every run.
func TestUnsetVariablesGiveOneLine(t *testing.T) {
	file, _ := filepath.Abs("testdata/unset/compose.yaml")
	var first string
	for i := 0; i < 10; i++ {
		_, err := Load(context.Background(), Options{Name: "test", Files: []string{file}, LookupEnv: noEnv})
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("err = %v, want *Error", err)
		}
		if i == 0 {
			first = e.Message
		} else if e.Message != first {
			t.Fatalf("run %d: %q differs from %q", i, e.Message, first)
		}
	}
	for _, v := range []string{"MEM_LIMIT", "GRACE"} {
		if n := strings.Count(first, `variable "`+v+`" is not set`); n != 1 {
			t.Errorf("variable %s noted %d times, want once: %s", v, n, first)
		}
	}
	for _, noise := range []string{"invalid size", "invalid duration", "decoding failed", "\n"} {
		if strings.Contains(first, noise) {
			t.Errorf("message still holds %q: %s", noise, first)
		}
	}
	if !strings.Contains(first, "an empty value is not valid there") {
		t.Errorf("message does not say why the variable matters: %s", first)
	}
}

// TestUnsetVariableUsesAreBounded: a variable used in every service lists
// a few places and a count, not the whole file.
func TestUnsetVariableUsesAreBounded(t *testing.T) {
	y := "services:\n"
	for _, s := range []string{"a", "b", "c", "d", "e", "f", "g", "h"} {
		y += "  " + s + ":\n    image: x\n    cpus: ${CPUS}\n"
	}
	_, err := loadInline(t, y)
	if err == nil {
		t.Fatal("loaded")
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, `invalid compose input: variable "CPUS" is not set (used in inline compose:4 services.a.cpus, `) ||
		!strings.Contains(msg, "services.e.cpus, and 3 more), and an empty value is not valid there") || strings.Contains(msg, "ParseFloat") {
		t.Errorf("message: %s", msg)
	}
}

// TestUnsetVariableBesideARealFault: a fault that is not an empty value
// keeps its own words, with the unset variable as a note.
func TestUnsetVariableBesideARealFault(t *testing.T) {
	_, err := loadInline(t, "services:\n  a:\n    image: x\n    mem_limit: lots\n  b:\n    image: x\n    mem_limit: ${MEM}\n")
	if err == nil || !strings.Contains(err.Error(), "invalid size: 'lots'") || !strings.Contains(err.Error(), `; variable "MEM" is not set`) {
		t.Errorf("err = %v", err)
	}
}

// TestUnsetVariableInOwnCheck: a value our own checks refuse (user ":")
// names the variables that left it empty, as compose-go's errors do.
func TestUnsetVariableInOwnCheck(t *testing.T) {
	_, err := loadInline(t, "services:\n  a:\n    image: x\n    user: \"${RUN_UID}:${RUN_GID}\"\n")
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v", err)
	}
	if e.Field != "services.a.user" || !strings.HasPrefix(e.Message, `service "a": user ":" is not a user`) ||
		!strings.Contains(e.Message, `variable "RUN_GID" is not set (used in inline compose:4 services.a.user); variable "RUN_UID" is not set`) {
		t.Errorf("error %s: %s", e.Field, e.Message)
	}
}
