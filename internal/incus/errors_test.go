package incus

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
)

func TestAlreadyExistsRecognisesEveryIncusWording(t *testing.T) {
	for _, err := range []error{
		&StatusError{Code: http.StatusConflict, Msg: "Profile is in use"},
		errors.New(`Error inserting "fleet-lock-x" into database: The profile already exists`),
		errors.New(`Failed creating project "x": Failed adding database record: Failed to create "projects" entry: UNIQUE constraint failed: projects.name`),
	} {
		if !alreadyExists(err) {
			t.Errorf("not recognised as already existing: %v", err)
		}
	}
	if alreadyExists(errors.New("Failed to connect to member")) {
		t.Error("an unrelated error counted as already existing")
	}
}

func TestStatusErrorKinds(t *testing.T) {
	cases := []struct {
		code int
		kind error
	}{
		{http.StatusNotFound, ErrNotFound},
		{http.StatusConflict, ErrConflict},
		{http.StatusPreconditionFailed, ErrConflict},
	}
	for _, c := range cases {
		err := classify(&StatusError{Code: c.code, Msg: "x"}, "read %s", "y")
		if !errors.Is(err, c.kind) {
			t.Errorf("status %d: %v is not %v", c.code, err, c.kind)
		}
	}
	err := classify(fmt.Errorf("wrapped: %w", &StatusError{Code: http.StatusInternalServerError, Msg: "boom"}), "act")
	if errors.Is(err, ErrNotFound) || errors.Is(err, ErrConflict) || err.Error() != "act: wrapped: boom" {
		t.Errorf("500: %v", err)
	}
}
