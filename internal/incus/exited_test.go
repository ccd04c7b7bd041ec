package incus

import (
	"errors"
	"fmt"
	"testing"
)

func TestAStartThatFindsItRunningSucceeded(t *testing.T) {
	err := fmt.Errorf("start web-1: GET /operations/x/wait: %w", &StatusError{Code: 400, Msg: "The instance is already running"})
	if !alreadyRunning(err) {
		t.Error("the measured answer is not recognised")
	}
	if alreadyRunning(errors.New("Instance not found")) {
		t.Error("another answer taken for running")
	}
}
