package incus

import (
	"reflect"
	"testing"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

func TestVolumeDevicesConfigAndTmpfs(t *testing.T) {
	db := model.Service{Name: "db", Deploy: model.DeploySpec{Mode: model.ModeReplicated, Replicas: 2}, Mounts: []model.Mount{
		{Type: model.MountVolume, Source: "data", Target: "/data"},
		{Type: model.MountVolume, Source: "ext", Target: "/ext", ReadOnly: true},
		{Type: model.MountTmpfs, Target: "/run/cache", TmpfsSize: 1 << 20},
	}}
	st := &model.Stack{Name: "s", Services: []model.Service{db}, Volumes: []model.Volume{
		{Name: "data", Size: "1024B", Labels: map[string]string{"team": "x"}},
		{Name: "ext", External: true, Incus: "legacy", Pool: "remote"},
	}}
	step := model.Step{Service: "db", Slot: 2, Member: "node1", Instance: "db-2"}
	got := VolumeDevices(st, &st.Services[0], step, "local")
	want := map[string]map[string]string{
		"volume-data": {"type": "disk", "pool": "local", "source": "data-2", "path": "/data"},
		"volume-ext":  {"type": "disk", "pool": "remote", "source": "legacy", "path": "/ext", "readonly": "true"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("devices\n got %v\nwant %v", got, want)
	}
	cfg := VolumeConfig(st, &st.Volumes[0], &st.Services[0], step)
	wantCfg := map[string]string{"user.fleet.stack": "s", "user.fleet.volume": "data", "user.fleet.service": "db",
		"user.fleet.slot": "2", "size": "1024B", "user.team": "x"}
	if !reflect.DeepEqual(cfg, wantCfg) {
		t.Errorf("config\n got %v\nwant %v", cfg, wantCfg)
	}
	raw := rawLXC(append([]string{"lxc.init.cmd = x"}, tmpfsMountLines(&st.Services[0])...))
	if want := "lxc.init.cmd = x\nlxc.mount.entry = tmpfs run/cache tmpfs rw,nosuid,nodev,create=dir,mode=1777,size=1048576 0 0"; raw != want {
		t.Errorf("raw.lxc %q\nwant %q", raw, want)
	}
}
