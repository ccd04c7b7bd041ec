// Package crashpoint lets tests kill incus-fleet at named points of its work,
// to prove that every intermediate state is recognisable from Incus alone
// and the next run converges. INCUS_FLEET_CRASH_AT=name or name:n sends
// SIGKILL to the process at the n-th hit (default 1) of that point. Without
// the variable, Hit costs one atomic load.
package crashpoint

import (
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
)

// EnvVar names the environment variable that arms a crash point.
const EnvVar = "INCUS_FLEET_CRASH_AT"

var (
	once   sync.Once
	armed  atomic.Bool
	target string
	nth    int64
	hits   atomic.Int64
)

func arm() {
	spec := os.Getenv(EnvVar)
	if spec == "" {
		return
	}
	name, n, _ := strings.Cut(spec, ":")
	nth = 1
	if v, err := strconv.ParseInt(n, 10, 64); err == nil && v > 0 {
		nth = v
	}
	target = name
	armed.Store(true)
}

// Hit marks a point; if it is the armed one, the process dies there the
// way a crash or `kill -9` would: no deferred cleanup, no lock release.
func Hit(name string) {
	once.Do(arm)
	if !armed.Load() || name != target {
		return
	}
	if hits.Add(1) == nth {
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // never returns
	}
}
