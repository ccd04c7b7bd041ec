package incus

import (
	"context"

	"github.com/lxc/incus/v6/shared/api"
)

// Clustered reports whether the server is a cluster member; ServerName is
// its member name then.
func (c *Client) Clustered() bool    { return c.clustered }
func (c *Client) ServerName() string { return c.server }

// ServerConfig is the server's config (cluster-wide and member keys) and
// its certificate fingerprint, which is the cluster certificate's once
// clustered: what joining members pin.
func (c *Client) ServerConfig() (config map[string]string, fingerprint string, err error) {
	info, _, err := c.srv.GetServer()
	if err != nil {
		return nil, "", classify(err, "read server config")
	}
	return info.Config, info.Environment.CertificateFingerprint, nil
}

// SetServerConfig sets the given keys and leaves every other key alone.
func (c *Client) SetServerConfig(set map[string]string) error {
	if len(set) == 0 {
		return nil
	}
	info, etag, err := c.srv.GetServer()
	if err != nil {
		return classify(err, "read server config")
	}
	put := info.Writable()
	if put.Config == nil {
		put.Config = map[string]string{}
	}
	for k, v := range set {
		put.Config[k] = v
	}
	return classify(c.srv.UpdateServer(put, etag), "update server config")
}

// Bootstrap turns this standalone server into the first member of a new
// cluster called after name, and refreshes the client's view of it.
func (c *Client) Bootstrap(ctx context.Context, name string) error {
	op, err := c.srv.UpdateCluster(api.ClusterPut{Cluster: api.Cluster{ServerName: name, Enabled: true}}, "")
	if err != nil {
		return classify(err, "enable clustering as %s", name)
	}
	if err := c.wait(ctx, op, "enable clustering as "+name); err != nil {
		return err
	}
	return c.refresh()
}

// refresh re-reads the server's identity after it joined or left a cluster.
func (c *Client) refresh() error {
	info, _, err := c.srv.GetServer()
	if err != nil {
		return classify(err, "read server info")
	}
	c.clustered, c.server = info.Environment.ServerClustered, info.Environment.ServerName
	return nil
}
