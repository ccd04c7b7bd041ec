package composeload

import (
	"fmt"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// maxSupportBytes bounds the support files of one stack. They are copied
// into every instance and kept, twice (current and previous spec), in the
// stack record in Incus so any machine can roll back; anything bigger
// belongs in the image.
const maxSupportBytes = 1 << 20

// defaultConfigMode is Compose's default mode for configs (read-only).
const defaultConfigMode = 0o444

// serviceFiles collects the support files of one service: bind mounts of
// single files and configs. Other mounts (directories, named volumes,
// tmpfs) cannot be copied into an instance and are reported, not dropped
// silently.
func serviceFiles(p *types.Project, s types.ServiceConfig, w *warnings) ([]model.File, error) {
	var files []model.File
	for _, v := range s.Volumes {
		if isHostBind(p.WorkingDir, v) {
			continue // a member path: binds.go
		}
		f, ok, err := volumeFile(p.WorkingDir, s.Name, v, w)
		if err != nil {
			return nil, err
		}
		if ok {
			files = append(files, f)
		}
	}
	for _, ref := range s.Configs {
		f, ok, err := configFile(p, s.Name, ref, w)
		if err != nil {
			return nil, err
		}
		if ok {
			files = append(files, f)
		}
	}
	if len(s.Secrets) > 0 {
		w.add(fmt.Sprintf("service %q: secrets are not supported yet and are ignored: nothing is mounted at /run/secrets", s.Name))
	}
	slices.SortFunc(files, func(a, b model.File) int { return strings.Compare(a.Target, b.Target) })
	for i := 1; i < len(files); i++ {
		if files[i].Target == files[i-1].Target {
			return nil, serviceErr(s.Name, "volumes", "and configs put two files at %s (%s and %s); give each its own target",
				files[i].Target, files[i-1].Source, files[i].Source)
		}
	}
	return files, nil
}

// volumeFile turns a bind mount of a regular file into a support file.
// ok is false for mounts that are not supported (reported as warnings).
func volumeFile(dir, service string, v types.ServiceVolumeConfig, w *warnings) (model.File, bool, error) {
	switch v.Type {
	case types.VolumeTypeBind:
	case types.VolumeTypeVolume:
		what := "anonymous volume"
		if v.Source != "" {
			what = fmt.Sprintf("named volume %q", v.Source)
		}
		w.add(fmt.Sprintf("service %q: %s at %s is not supported yet and is ignored: data written there stays in each instance", service, what, v.Target))
		return model.File{}, false, nil
	default:
		w.add(fmt.Sprintf("service %q: %s mount at %s is not supported and is ignored", service, v.Type, v.Target))
		return model.File{}, false, nil
	}
	target, err := cleanTarget(service, "volumes", v.Target)
	if err != nil {
		return model.File{}, false, err
	}
	st, err := os.Stat(v.Source)
	switch {
	case err != nil && os.IsNotExist(err):
		return model.File{}, false, serviceErr(service, "volumes", "bind mount source %s does not exist in the project directory; create the file to copy it into each instance, or remove the mount (a directory of the project cannot be mounted; use a path on the members, such as /srv/data)", displayPath(dir, v.Source))
	case err != nil:
		return model.File{}, false, serviceErr(service, "volumes", "bind mount source %s cannot be read: %v", displayPath(dir, v.Source), err)
	case st.IsDir():
		w.add(fmt.Sprintf("service %q: bind mount of directory %s at %s is not supported yet and is ignored: only single files are copied into instances",
			service, displayPath(dir, v.Source), target))
		return model.File{}, false, nil
	case !st.Mode().IsRegular():
		w.add(fmt.Sprintf("service %q: bind mount of %s (%s) at %s is not supported and is ignored: only regular files can be copied into instances",
			service, displayPath(dir, v.Source), st.Mode().Type(), target))
		return model.File{}, false, nil
	}
	content, src, err := readSupportFile(dir, v.Source)
	if err != nil {
		return model.File{}, false, serviceErr(service, "volumes", "bind mount source %v", err)
	}
	return model.File{Target: target, Mode: fileMode(st), Content: content, Source: src}, true, nil
}

// configFile resolves one service config reference to a support file.
func configFile(p *types.Project, service string, ref types.ServiceConfigObjConfig, w *warnings) (model.File, bool, error) {
	attr := "configs." + ref.Source
	cfg, ok := p.Configs[ref.Source]
	if !ok { // compose-go checks this already; kept so a gap cannot panic
		return model.File{}, false, serviceErr(service, attr, "refers to a config that is not defined in the top-level configs:")
	}
	target := ref.Target
	if target == "" {
		target = "/" + ref.Source // Compose's default
	} else if !strings.HasPrefix(target, "/") {
		target = "/" + target
	}
	target, err := cleanTarget(service, attr, target)
	if err != nil {
		return model.File{}, false, err
	}
	f := model.File{Target: target, Mode: defaultConfigMode, Source: "config " + ref.Source}
	if ref.Mode != nil {
		f.Mode = uint32(*ref.Mode) & 0o7777
	}
	if f.UID, err = ownerID(service, attr+".uid", ref.UID); err != nil {
		return model.File{}, false, err
	}
	if f.GID, err = ownerID(service, attr+".gid", ref.GID); err != nil {
		return model.File{}, false, err
	}
	switch {
	case bool(cfg.External):
		w.add(fmt.Sprintf("service %q: config %q is external, which is not supported: nothing is put at %s", service, ref.Source, target))
		return model.File{}, false, nil
	case cfg.File != "":
		st, err := os.Stat(cfg.File)
		if err != nil || !st.Mode().IsRegular() {
			return model.File{}, false, serviceErr(service, attr, "file %s is not a readable regular file; create it or fix configs.%s.file",
				displayPath(p.WorkingDir, cfg.File), ref.Source)
		}
		if f.Content, _, err = readSupportFile(p.WorkingDir, cfg.File); err != nil {
			return model.File{}, false, serviceErr(service, attr, "file %v", err)
		}
	default: // content:, or environment: (resolveConfigEnvironment)
		f.Content = []byte(cfg.Content)
	}
	return f, true, nil
}

// readSupportFile reads a file that must lie inside the project directory,
// both as written and after following symlinks, so a compose file cannot
// pull arbitrary host files into instances (or into a bundle). It returns
// the content and the project-relative display path.
func readSupportFile(dir, file string) ([]byte, string, error) {
	rel, ok := insideDir(dir, file)
	if !ok {
		return nil, "", fmt.Errorf("%s is outside the project directory %s; move it into the project directory", file, dir)
	}
	if !insideAfterSymlinks(dir, file) {
		return nil, "", fmt.Errorf("./%s is a symlink to a file outside the project directory %s; copy the file into the project directory", rel, dir)
	}
	st, err := os.Stat(file)
	if err != nil {
		return nil, "", fmt.Errorf("./%s cannot be read: %v", rel, err)
	}
	if st.Size() > maxSupportBytes {
		return nil, "", fmt.Errorf("./%s is %d bytes; support files are limited to %d bytes per stack: put large files into the image", rel, st.Size(), maxSupportBytes)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, "", fmt.Errorf("./%s cannot be read: %v", rel, err)
	}
	return b, "./" + rel, nil
}

// cleanTarget insists on an absolute, clean container path.
func cleanTarget(service, attr, target string) (string, error) {
	if !strings.HasPrefix(target, "/") {
		return "", serviceErr(service, attr, "target %q must be an absolute path inside the container", target)
	}
	clean := path.Clean(target)
	if clean == "/" {
		return "", serviceErr(service, attr, "target %q must name a file, not the root directory", target)
	}
	return clean, nil
}

// ownerID parses a config's uid/gid ("" = root).
func ownerID(service, attr, v string) (int64, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, serviceErr(service, attr, "%q must be a numeric id such as 1000", v)
	}
	return n, nil
}

// fileMode normalises a bind-mounted file's mode to 0644 or 0755: only the
// executable bit survives, as in git, so a checkout's umask does not
// change the config hash.
func fileMode(st os.FileInfo) uint32 {
	if st.Mode().Perm()&0o111 != 0 {
		return 0o755
	}
	return 0o644
}

// supportBytes is the total size of a stack's support files.
func supportBytes(services []model.Service) int {
	n := 0
	for _, s := range services {
		for _, f := range s.Files {
			n += len(f.Content)
		}
	}
	return n
}

// resolveConfigEnvironment fills the content of configs taken from an
// environment variable (configs: {x: {environment: VAR}}) through all our
// environment layers; compose-go would only see the project map.
func resolveConfigEnvironment(p *types.Project, env *environment) {
	for name, c := range p.Configs {
		if c.Environment != "" && c.Content == "" {
			c.Content, _ = env.lookup(c.Environment)
			p.Configs[name] = c
		}
	}
}
