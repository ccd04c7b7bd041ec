package composeload

import "strings"

// composeProfilesVar is Docker Compose's variable for the active profiles.
const composeProfilesVar = "COMPOSE_PROFILES"

// activeProfiles picks the profiles to enable the way `docker compose`
// does: --profile (Options.Profiles), when given, replaces COMPOSE_PROFILES
// instead of adding to it; otherwise COMPOSE_PROFILES is read, from Env
// first, then the process environment, then the project's .env (for
// COMPOSE_* variables Compose lets the shell win over .env). A bundle has
// its profiles applied already and reads neither.
func activeProfiles(o Options, env *environment) []string {
	if len(o.Profiles) > 0 || o.Pinned {
		return o.Profiles
	}
	v, ok := o.Env[composeProfilesVar]
	if !ok {
		v, ok = env.process(composeProfilesVar)
	}
	if !ok {
		v = env.dotEnv[composeProfilesVar]
	}
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
