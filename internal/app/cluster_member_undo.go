package app

import (
	"fmt"

	"github.com/incus-fleet/incus-fleet/internal/cluster"
	"github.com/incus-fleet/incus-fleet/internal/incus"
)

// joinUndo is what a failed join has to put back. Incus changes two things
// before a join can fail and its own rollback keeps both: the cluster
// trusts the joining daemon's server certificate as soon as the token is
// presented, and the daemon records its cluster.https_address.
type joinUndo struct {
	remote      *incus.Client // nil when joining with a token (no access to undo trust)
	serverFP    string        // the joining daemon's own certificate
	wasTrusted  bool
	clusterAddr string // the daemon's cluster.https_address before
}

// prepareUndo records the state a failed join must return to.
func (r *memberRun) prepareUndo(remote *incus.Client) (*joinUndo, error) {
	cfg, fp, err := r.local.ServerConfig()
	if err != nil {
		return nil, err
	}
	u := &joinUndo{remote: remote, serverFP: fp, clusterAddr: cfg["cluster.https_address"]}
	if remote != nil {
		if u.wasTrusted, err = remote.Trusts(fp); err != nil {
			return nil, err
		}
	}
	return u, nil
}

// undo puts back what a failed join left; what it cannot, it reports.
func (r *memberRun) undo(u *joinUndo) {
	if u.remote != nil && !u.wasTrusted {
		if err := u.remote.Untrust(u.serverFP); err != nil {
			r.warn = append(r.warn, fmt.Sprintf("the cluster still trusts %s's server certificate %s after the failed join (%v); "+
				"remove it with `incus config trust remove %s`", r.p.Name, cluster.Short(u.serverFP), err, cluster.Short(u.serverFP)))
		}
	}
	cfg, _, err := r.local.ServerConfig()
	if err != nil || r.local.Clustered() || cfg["cluster.https_address"] == u.clusterAddr {
		return
	}
	// Only an unset address can be put back: a standalone Incus 6.0 daemon
	// drops a request setting cluster.https_address to its core address.
	if u.clusterAddr == "" {
		if err := r.local.SetServerConfig(map[string]string{"cluster.https_address": ""}); err == nil {
			return
		}
	}
	r.warn = append(r.warn, fmt.Sprintf("the failed join left cluster.https_address=%s on %s (was %q)", cfg["cluster.https_address"], r.p.Name, u.clusterAddr))
}
