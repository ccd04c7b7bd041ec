package composeload

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"
)

// TestComposeProfilesVariable: COMPOSE_PROFILES enables profiles as
// `docker compose` reads it: from the project's .env, overridden by the
// process environment, overridden by Env; --profile replaces it (it does
// not add to it).
func TestComposeProfilesVariable(t *testing.T) {
	dir, err := filepath.Abs("testdata/profiles") // its .env says COMPOSE_PROFILES=debug
	if err != nil {
		t.Fatal(err)
	}
	all := []string{"db", "debug", "tools", "web"}
	tests := []struct {
		name     string
		process  map[string]string
		env      map[string]string
		profiles []string
		want     []string
	}{
		{"from .env", nil, nil, nil, all},
		{"process wins over .env", map[string]string{"COMPOSE_PROFILES": "tools"}, nil, nil, []string{"db", "tools", "web"}},
		{"process set empty turns .env's off", map[string]string{"COMPOSE_PROFILES": ""}, nil, nil, []string{"db", "web"}},
		{"Env wins over process", map[string]string{"COMPOSE_PROFILES": "tools"}, map[string]string{"COMPOSE_PROFILES": " debug , "}, nil, all},
		{"--profile replaces COMPOSE_PROFILES", map[string]string{"COMPOSE_PROFILES": "debug"}, nil, []string{"tools"}, []string{"db", "tools", "web"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := Load(context.Background(), Options{
				Name: "test", Files: []string{filepath.Join(dir, "compose.yaml")},
				LookupEnv: mapEnv(tt.process), Env: tt.env, Profiles: tt.profiles,
			})
			if err != nil {
				t.Fatal(err)
			}
			if got := serviceNames(st); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("services = %v, want %v", got, tt.want)
			}
		})
	}
}
