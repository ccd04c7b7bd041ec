package composeload

import (
	"fmt"
	"maps"
	"regexp"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// toVolumes maps the top-level volumes: every entry becomes an Incus
// custom storage volume (see model.Volume). Only volumes some service
// mounts are kept; an unused one would only be created to sit empty.
func toVolumes(p *types.Project, w *warnings) ([]model.Volume, error) {
	used := map[string]bool{}
	for _, s := range p.Services {
		for _, v := range s.Volumes {
			if v.Type == types.VolumeTypeVolume && v.Source != "" {
				used[v.Source] = true
			}
		}
	}
	var out []model.Volume
	for _, name := range sortedKeys(p.Volumes) {
		if !used[name] {
			continue
		}
		v, err := toVolume(name, p.Volumes[name], w)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func toVolume(name string, c types.VolumeConfig, w *warnings) (model.Volume, error) {
	field := "volumes." + name
	v := model.Volume{Name: name, External: bool(c.External)}
	if err := volumeNameTemplate(name, c, w); err != nil { // templates.go
		return v, err
	}
	if v.External {
		v.Incus = c.Name
		if v.Incus == "" {
			v.Incus = name
		}
	}
	if c.Driver != "" && c.Driver != "local" {
		w.add(fmt.Sprintf("volume %q: driver %q ignored: volumes are Incus custom storage volumes (choose the pool with x-incus.pool)", name, c.Driver))
	}
	for _, k := range sortedKeys(c.DriverOpts) {
		switch k {
		case "size":
			size, err := volumeSize(c.DriverOpts[k])
			if err != nil {
				return v, errorf(field+".driver_opts.size", "volume %q: driver_opts.size %q %v", name, c.DriverOpts[k], err)
			}
			v.Size = size
		default:
			w.add(fmt.Sprintf("volume %q: driver_opts.%s ignored: only size maps onto an Incus volume", name, k))
		}
	}
	if len(c.Labels) > 0 {
		v.Labels = maps.Clone(map[string]string(c.Labels))
	}
	if err := volumeExtension(name, c.Extensions, &v); err != nil {
		return v, err
	}
	if v.External && (v.Size != "" || len(v.Labels) > 0) {
		w.add(fmt.Sprintf("volume %q is external: its size and labels are left as they are in Incus", name))
	}
	return v, nil
}

// volumeExtension reads x-incus on a volume: pool (the storage pool,
// default the root disk's) and shared (several writers are safe).
func volumeExtension(name string, ext types.Extensions, v *model.Volume) error {
	raw, ok := ext[incusExtension]
	if !ok || raw == nil {
		return nil
	}
	field := "volumes." + name + "." + incusExtension
	m, ok := raw.(map[string]any)
	if !ok {
		return errorf(field, "volume %q: %s must be a mapping, e.g. {pool: local, shared: true}", name, incusExtension)
	}
	for _, k := range sortedKeys(m) {
		switch val := m[k]; k {
		case "pool":
			s, ok := val.(string)
			if !ok || strings.TrimSpace(s) == "" {
				return errorf(field+".pool", "volume %q: %s.pool must be the name of an Incus storage pool", name, incusExtension)
			}
			v.Pool = s
		case "shared":
			b, ok := val.(bool)
			if !ok {
				return errorf(field+".shared", "volume %q: %s.shared must be true or false", name, incusExtension)
			}
			v.Shared = b
		default:
			return errorf(field+"."+k, "volume %q: unknown key %s.%s (known: pool, shared)", name, incusExtension, k)
		}
	}
	return nil
}

var sizePattern = regexp.MustCompile(`^([0-9]+)\s*([A-Za-z]*)$`)

// sizeUnits are the suffixes a volume size may carry: Incus's own (kB, MiB,
// ...) and Docker's single letters (k, m, g: powers of 1024).
var sizeUnits = map[string]int64{
	"": 1, "b": 1,
	"kb": 1000, "mb": 1000 * 1000, "gb": 1000 * 1000 * 1000, "tb": 1000 * 1000 * 1000 * 1000,
	"k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40,
	"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
}

// volumeSize parses a size and renders it in bytes the way Incus reads it
// ("1073741824B"), so a unit Incus would read differently never slips by.
func volumeSize(s string) (string, error) {
	m := sizePattern.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return "", fmt.Errorf("is not a size; use a number with a unit such as 10GiB, 500MB or 2g")
	}
	unit, ok := sizeUnits[strings.ToLower(m[2])]
	if !ok {
		return "", fmt.Errorf("has an unknown unit %q; use B, kB, MB, GB, TB, KiB, MiB, GiB, TiB, k, m or g", m[2])
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil || n <= 0 || n > (1<<62)/unit {
		return "", fmt.Errorf("is out of range; give a positive size such as 10GiB")
	}
	return strconv.FormatInt(n*unit, 10) + "B", nil
}

// serviceMounts maps a service's named-volume and tmpfs mounts (type:
// volume with a source, type: tmpfs). Bind mounts are support files
// (files.go); anonymous volumes are reported there.
func serviceMounts(s types.ServiceConfig) ([]model.Mount, error) {
	var out []model.Mount
	seen := map[string]bool{}
	for _, v := range s.Volumes {
		var m model.Mount
		switch {
		case v.Type == types.VolumeTypeVolume && v.Source != "":
			m = model.Mount{Type: model.MountVolume, Source: v.Source, ReadOnly: v.ReadOnly}
		case v.Type == types.VolumeTypeTmpfs:
			m = model.Mount{Type: model.MountTmpfs}
			if v.Tmpfs != nil {
				m.TmpfsSize, m.TmpfsMode = int64(v.Tmpfs.Size), v.Tmpfs.Mode&0o7777
			}
		default:
			continue
		}
		target, err := cleanTarget(s.Name, "volumes", v.Target)
		if err != nil {
			return nil, err
		}
		if seen[target] {
			return nil, serviceErr(s.Name, "volumes", "mount two volumes at %s; give each its own target", target)
		}
		seen[target] = true
		m.Target = target
		out = append(out, m)
	}
	return out, nil
}
