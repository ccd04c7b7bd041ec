package incus

import (
	"errors"
	"net/http"
	"testing"

	"github.com/lxc/incus/v6/shared/api"
)

func TestAlreadyExistsRecognisesEveryIncusWording(t *testing.T) {
	for _, err := range []error{
		api.StatusErrorf(http.StatusConflict, "Profile is in use"),
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
