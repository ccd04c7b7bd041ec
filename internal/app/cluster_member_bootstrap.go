package app

import (
	"context"
	"fmt"

	"github.com/incus-fleet/incus-fleet/internal/cluster"
	"github.com/incus-fleet/incus-fleet/internal/incus"
	"github.com/incus-fleet/incus-fleet/internal/protocol"
)

// bootstrap turns the standalone local daemon into the first member of a
// new cluster: it listens on params.address for the API and cluster
// traffic, gets params.config, trusts the fleet client certificate (so
// members can later join through it) and enables clustering as params.name.
func (r *memberRun) bootstrap(ctx context.Context) (string, error) {
	if r.p.Address == "" {
		return "", protocol.Invalid("params.address", "required to bootstrap: the host:port this member serves the API and cluster traffic on, e.g. 10.0.0.1:8443")
	}
	cfg, _, err := r.local.ServerConfig()
	if err != nil {
		return "", err
	}
	// cluster.* settings go in after clustering is enabled: a standalone
	// Incus 6.0 daemon drops the request that sets one.
	if err := r.serverConfig(cfg, map[string]string{"core.https_address": r.p.Address}); err != nil {
		return "", err
	}
	if err := r.trust(); err != nil {
		return "", err
	}
	// Bootstrapping copies core.https_address into an unset
	// cluster.https_address, and that is the only way to set it: a
	// standalone Incus 6.0 daemon drops a request that sets it to its
	// core.https_address. So a different value is unset first.
	cur := cfg["cluster.https_address"]
	changes := []cluster.Change{{Key: "member", Old: nil, New: map[string]string{"name": r.p.Name, "address": r.p.Address, "cluster": "new"}}}
	if cur != r.p.Address {
		changes = append(changes, cluster.Change{Key: "config.cluster.https_address", Old: optionalValue(cur, cur != ""), New: r.p.Address})
	}
	err = r.apply(changes, func() error {
		if cur != "" && cur != r.p.Address {
			if err := r.local.SetServerConfig(map[string]string{"cluster.https_address": ""}); err != nil {
				return err
			}
		}
		r.progress("enabling clustering on %s (%s)", r.p.Name, r.p.Address)
		return r.local.Bootstrap(ctx, r.p.Name)
	})
	if err != nil {
		return "", err
	}
	if r.test {
		if err := r.serverConfig(cfg, r.p.Config); err != nil {
			return "", err
		}
		r.predict([]string{cluster.DefaultGroup})
		return fmt.Sprintf("would bootstrap a new cluster with %s (%s) as its first member", r.p.Name, r.p.Address), nil
	}
	if cfg, r.fp, err = r.local.ServerConfig(); err != nil {
		return "", err
	}
	if err := r.serverConfig(cfg, r.p.Config); err != nil {
		return "", err
	}
	if err := r.converge(); err != nil {
		return "", err
	}
	return fmt.Sprintf("bootstrapped a new cluster with %s (%s) as its first member; members join it pinning cluster_fingerprint %s",
		r.p.Name, r.p.Address, r.fp), nil
}

// serverConfig converges the server config keys in want; in the bootstrap
// form params.config is converged on every run, so a changed cluster.*
// setting in the pillar reaches the cluster.
func (r *memberRun) serverConfig(cfg, want map[string]string) error {
	set, changes := cluster.PlanServerConfig(cfg, want)
	return r.apply(changes, func() error {
		r.progress("setting server config %v", changeKeys(changes))
		return r.local.SetServerConfig(set)
	})
}

// trust makes the server trust the fleet client certificate, so members
// can join through it with that certificate.
func (r *memberRun) trust() error {
	if r.p.Trust == nil || r.p.Trust.ClientCert == "" {
		return nil
	}
	cert, err := incus.LoadClientCertificate("params.trust.client_cert", r.p.Trust.ClientCert)
	if err != nil {
		return protocol.Invalid("params.trust.client_cert", "%v", err)
	}
	trusted, err := r.local.Trusts(cert.Fingerprint)
	if err != nil || trusted {
		return err
	}
	return r.apply([]cluster.Change{{Key: "trust." + incus.FleetCertName, Old: nil, New: cert.Fingerprint}}, func() error {
		r.progress("trusting the fleet client certificate %s", cluster.Short(cert.Fingerprint))
		return r.local.Trust(cert)
	})
}

func optionalValue(v string, ok bool) any {
	if !ok {
		return nil
	}
	return v
}
