package incus

import (
	"context"
	"net/url"
	"slices"

	"github.com/lxc/incus/v6/shared/api"
)

// instanceProfile is the profile every stack instance is created with
// (InstanceSpec); its root disk decides where the instances' data lives.
const instanceProfile = "default"

// rootPool reads the storage pool of the instance profile's root disk, so
// the planner can warn when replicas cannot fail over with their data.
// A missing profile or root disk gives "" (unknown), not an error: the
// deploy itself will say what is wrong in that case. With a project, the
// profile is read as that project resolves it; a project that does not
// exist yet (a first deploy) falls back to the default project's.
func (c *Client) rootPool(ctx context.Context, project string) (string, error) {
	if project != "" {
		var p profileDevices
		_, err := c.call(ctx, "GET", "/profiles/"+url.PathEscape(instanceProfile), Scope{Project: project}, nil, &p)
		if err == nil {
			return rootDiskPoolOf(p.Devices), nil
		}
		if !isNotFound(err) {
			return "", err
		}
	}
	p, _, err := c.srv.GetProfile(instanceProfile)
	if err != nil {
		if err = classify(err, "read profile %s", instanceProfile); isNotFound(err) {
			return "", nil
		}
		return "", err
	}
	return rootDiskPool(p), nil
}

// rootDiskPool finds the disk device mounted at / (its name is free, "root"
// only by convention); several would be an Incus error, so the first in
// name order wins for determinism.
func rootDiskPool(p *api.Profile) string { return rootDiskPoolOf(p.Devices) }

// profileDevices is the part of GET /1.0/profiles/NAME the root pool reads.
type profileDevices struct {
	Devices map[string]map[string]string `json:"devices"`
}

func rootDiskPoolOf(devices map[string]map[string]string) string {
	names := make([]string, 0, len(devices))
	for name := range devices {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		d := devices[name]
		if d["type"] == "disk" && d["path"] == "/" {
			return d["pool"]
		}
	}
	return ""
}
