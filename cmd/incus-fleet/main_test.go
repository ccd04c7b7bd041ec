package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/incus-fleet/incus-fleet/internal/app"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"incus-fleet": func() { os.Exit(app.Main(os.Args, os.Stdin, os.Stdout, os.Stderr)) },
	})
}

// TestScripts runs testdata/script/*.txtar. Scripts that need the loopback
// cluster start with `[!testbed] skip`; make test always provides it.
func TestScripts(t *testing.T) {
	socket := os.Getenv("INCUS_SOCKET")
	testbed := socket != "" && os.Getenv("INCUS_FLEET_TESTBED") != ""
	if !testbed && os.Getenv("INCUS_FLEET_REQUIRE_TESTBED") != "" {
		t.Fatal("INCUS_FLEET_REQUIRE_TESTBED is set but the test bed env is missing: run `make testbed-up` and source its env file")
	}
	testscript.Run(t, testscript.Params{
		Dir:                 "../../testdata/script",
		RequireExplicitExec: true,
		Setup: func(e *testscript.Env) error {
			e.Setenv("INCUS_SOCKET", socket)
			e.Setenv("STACK", stackNameFor(e.WorkDir))
			return nil
		},
		Condition: func(cond string) (bool, error) {
			if cond == "testbed" {
				return testbed, nil
			}
			return false, nil
		},
	})
}

var nonName = regexp.MustCompile(`[^a-z0-9]+`)

// stackNameFor gives each script its own stack (scripts run in parallel).
func stackNameFor(workDir string) string {
	name := nonName.ReplaceAllString(strings.ToLower(filepath.Base(workDir)), "-")
	name = strings.Trim(strings.TrimPrefix(name, "script-"), "-")
	if len(name) > 40 {
		name = name[:40]
	}
	return "ts-" + strings.Trim(name, "-")
}
