package incus

import (
	"bytes"
	"path"

	incusclient "github.com/lxc/incus/v6/client"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// pushFiles copies a service's support files into an instance that was
// created but not started, so the service finds them from its first
// instruction, on whichever member the instance landed. Incus forwards the
// file API to the member that holds the instance.
func (c *Client) pushFiles(stack, instance string, files []model.File) error {
	if len(files) == 0 {
		return nil
	}
	srv := c.srv.UseProject(stack)
	made := map[string]bool{}
	for _, f := range files {
		for _, dir := range parentDirs(f.Target) {
			if made[dir] {
				continue
			}
			// An existing directory is left as it is (Incus answers success).
			args := incusclient.InstanceFileArgs{Type: "directory", Mode: 0o755, UID: 0, GID: 0}
			if err := srv.CreateInstanceFile(instance, dir, args); err != nil {
				return classify(err, "create directory %s in %s for %s", dir, instance, f.Source)
			}
			made[dir] = true
		}
		// Incus applies mode and owner only when it creates a file, so an
		// image's own copy is removed first; a missing one is the usual case.
		_ = srv.DeleteInstanceFile(instance, f.Target)
		args := incusclient.InstanceFileArgs{Type: "file", Content: bytes.NewReader(f.Content), Mode: int(f.Mode),
			UID: f.UID, GID: f.GID, WriteMode: "overwrite"}
		if err := srv.CreateInstanceFile(instance, f.Target, args); err != nil {
			return classify(err, "copy %s to %s in %s", f.Source, f.Target, instance)
		}
	}
	return nil
}

// parentDirs lists the directories above an absolute path, outermost
// first: /etc/nginx/nginx.conf → /etc, /etc/nginx.
func parentDirs(target string) []string {
	var out []string
	dir := path.Dir(target)
	for dir != "/" && dir != "." {
		out = append(out, dir)
		dir = path.Dir(dir)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}
