package incus

import (
	"context"
	"net/http"
	"net/url"
	"slices"
)

// instanceProfile is the profile every stack instance is created with
// (InstanceSpec); its root disk decides where the instances' data lives.
const instanceProfile = "default"

// Profile is GET /1.0/profiles/{name}; also its writable part.
type Profile struct {
	Name        string                       `json:"name,omitempty"`
	Description string                       `json:"description"`
	Config      map[string]string            `json:"config"`
	Devices     map[string]map[string]string `json:"devices"`
}

func profilePath(name string) string { return "/profiles/" + url.PathEscape(name) }

// rootPool reads the storage pool of the instance profile's root disk, so
// the planner can warn when replicas cannot fail over with their data.
// A missing profile or root disk gives "" (unknown), not an error: the
// deploy itself will say what is wrong in that case. With a project, the
// profile is read as that project resolves it; a project that does not
// exist yet (a first deploy) falls back to the default project's.
func (c *Client) rootPool(ctx context.Context, project string) (string, error) {
	if project != "" {
		var p Profile
		_, err := c.call(ctx, http.MethodGet, profilePath(instanceProfile), Scope{Project: project}, nil, &p)
		if err == nil {
			return rootDiskPool(&p), nil
		}
		if !isNotFound(err) {
			return "", err
		}
	}
	var p Profile
	if _, err := c.call(ctx, http.MethodGet, profilePath(instanceProfile), Scope{}, nil, &p); err != nil {
		if err = classify(err, "read profile %s", instanceProfile); isNotFound(err) {
			return "", nil
		}
		return "", err
	}
	return rootDiskPool(&p), nil
}

// rootDiskPool finds the disk device mounted at / (its name is free, "root"
// only by convention); several would be an Incus error, so the first in
// name order wins for determinism.
func rootDiskPool(p *Profile) string {
	names := make([]string, 0, len(p.Devices))
	for name := range p.Devices {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		d := p.Devices[name]
		if d["type"] == "disk" && d["path"] == "/" {
			return d["pool"]
		}
	}
	return ""
}
