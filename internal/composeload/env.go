package composeload

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"

	"github.com/compose-spec/compose-go/v2/dotenv"
	"github.com/compose-spec/compose-go/v2/template"
)

// environment layers the interpolation sources: Options.Env wins over the
// project's .env file, which wins over the process environment. The fixed
// layers (Env, .env) form the project environment handed to compose-go;
// the process environment stays a lookup function because it may be
// injected (tests, Salt) and cannot always be enumerated.
type environment struct {
	project map[string]string
	process func(string) (string, bool)
	// unset collects ${VAR} references that resolved to nothing, reported
	// as warnings instead of compose-go's log lines on stderr.
	unset map[string]bool
	// dotEnv is the project's .env alone, for COMPOSE_PROFILES (profiles.go).
	dotEnv map[string]string
}

// lookup resolves one variable through all layers; it is what compose-go
// calls for ${VAR} interpolation.
func (e *environment) lookup(key string) (string, bool) {
	if v, ok := e.project[key]; ok {
		return v, true
	}
	return e.process(key)
}

// substitute is compose-go's default ${VAR} substitution, minus its logging:
// a plain reference to an unset variable is recorded instead.
func (e *environment) substitute(s string, mapping template.Mapping) (string, error) {
	return template.SubstituteWithOptions(s, mapping, template.WithoutLogging,
		template.WithReplacementFunction(func(sub string, m template.Mapping, cfg *template.Config) (string, error) {
			var missing []string
			recording := func(k string) (string, bool) {
				v, ok := m(k)
				if !ok {
					missing = append(missing, k)
				}
				return v, ok
			}
			v, applied, err := template.DefaultReplacementAppliedFunc(sub, recording, cfg)
			if err == nil && !applied {
				for _, k := range missing {
					e.unset[k] = true
				}
			}
			return v, err
		}))
}

// warnings reports the unset variables, one line each.
func (e *environment) warnings(w *warnings) {
	for k := range e.unset {
		w.add(fmt.Sprintf("variable %q is not set: substituted an empty string (set it in Env, .env or the environment, or write ${%s:-default})", k, k))
	}
}

func newEnvironment(o Options, dir string) (*environment, error) {
	env := &environment{project: map[string]string{}, process: o.LookupEnv, unset: map[string]bool{}}
	if env.process == nil {
		env.process = os.LookupEnv
	}
	if o.Pinned {
		// A bundle deploys exactly as created: nothing from the deploying
		// machine's environment or a stray .env may flow into it.
		env.process = func(string) (string, bool) { return "", false }
		return env, nil
	}
	dotEnv, err := readDotEnv(filepath.Join(dir, ".env"), func(k string) (string, bool) {
		// Variables inside .env expand from Env first, then the process,
		// like `docker compose` does (which consults its shell first).
		if v, ok := o.Env[k]; ok {
			return v, true
		}
		return env.process(k)
	})
	if err != nil {
		return nil, err
	}
	env.dotEnv = dotEnv
	maps.Copy(env.project, dotEnv)
	maps.Copy(env.project, o.Env)
	return env, nil
}

// readDotEnv parses the project's .env file; a missing file is normal.
func readDotEnv(path string, lookup func(string) (string, bool)) (map[string]string, error) {
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) || (err == nil && st.IsDir()) {
		return nil, nil
	}
	if err != nil {
		return nil, errorf("env", "cannot read %s: %v; fix its permissions or remove it", path, err)
	}
	vars, err := dotenv.ReadFile(path, lookup)
	if err != nil {
		return nil, errorf("env", "cannot parse %s: %v; use KEY=VALUE lines", path, err)
	}
	return vars, nil
}
