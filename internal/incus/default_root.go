package incus

import (
	"context"
	"fmt"
	"net/http"
)

// RootDisk is the root disk of the default project's default profile, the
// profile every stack instance is created with: its pool is where the
// instances' root file systems live.
type RootDisk struct {
	Device string // "" when the profile has no disk mounted at /
	Pool   string
	etag   string
	prof   Profile
}

// DefaultProfileRoot reads the default profile's root disk. A fresh Incus
// has a default profile without one, and no instance can be created until
// something adds it.
func (c *Client) DefaultProfileRoot(ctx context.Context) (RootDisk, error) {
	var p Profile
	etag, err := c.call(ctx, http.MethodGet, profilePath(instanceProfile), Scope{Project: "default"}, nil, &p)
	if err != nil {
		return RootDisk{}, classify(err, "read profile %s of project default", instanceProfile)
	}
	r := RootDisk{Pool: rootDiskPool(&p), etag: etag, prof: p}
	for name, d := range p.Devices {
		if d["type"] == "disk" && d["path"] == "/" && d["pool"] == r.Pool {
			r.Device = name
			break
		}
	}
	return r, nil
}

// rootDeviceName is the name Incus itself gives a profile's root disk.
const rootDeviceName = "root"

// Addable says whether a root disk on pool can be added as "root": a
// device of that name that is not the root disk is in the way.
func (r RootDisk) Addable(pool string) error {
	if _, taken := r.prof.Devices[rootDeviceName]; taken && r.Pool == "" {
		return fmt.Errorf("profile %s has a device named %q that is not a root disk: rename it, or add the root disk yourself "+
			"(incus profile device add %s <name> disk path=/ pool=%s): %w", instanceProfile, rootDeviceName, instanceProfile, pool, ErrConflict)
	}
	return nil
}

// SetDefaultProfileRoot gives the default profile a root disk on pool, as
// read by r: only a profile without one is changed (a root disk on another
// pool holds instances that Incus cannot move by a profile edit). The
// write carries r's ETag, so a profile changed since it was read is a
// conflict, not overwritten.
func (c *Client) SetDefaultProfileRoot(ctx context.Context, r RootDisk, pool string) error {
	if r.Pool != "" {
		return fmt.Errorf("profile %s already has its root disk %q on storage pool %s: %w", instanceProfile, r.Device, r.Pool, ErrConflict)
	}
	if err := r.Addable(pool); err != nil {
		return err
	}
	name := rootDeviceName
	put := Profile{Description: r.prof.Description, Config: r.prof.Config, Devices: map[string]map[string]string{}}
	for k, d := range r.prof.Devices {
		put.Devices[k] = d
	}
	put.Devices[name] = map[string]string{"type": "disk", "path": "/", "pool": pool}
	if put.Config == nil {
		put.Config = map[string]string{}
	}
	_, err := c.callIfMatch(ctx, http.MethodPut, profilePath(instanceProfile), Scope{Project: "default"}, r.etag, put, nil)
	return classify(err, "add the root disk on pool %s to profile %s", pool, instanceProfile)
}
