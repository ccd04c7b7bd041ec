package incus

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/incus-fleet/incus-fleet/internal/model"
	"github.com/incus-fleet/incus-fleet/internal/ociref/registrytest"
)

// TestOCIImageHealthcheck: a service that gives no healthcheck test runs
// its OCI image's HEALTHCHECK, read from the config blob of the pinned
// digest (the test registry on 127.0.0.1 stands in for a real one: the
// bed's Incus 6.0 has no instance_oci), with the service's durations and
// retries overriding the image's and Docker's defaults for the rest. A
// disabled check or one with its own test asks no registry.
func TestOCIImageHealthcheck(t *testing.T) {
	reg := registrytest.New()
	defer reg.Close()
	c := ociTestClient(reg)
	reg.PushConfig("library/app", "1", map[string]any{"Healthcheck": map[string]any{
		"Test": []string{"CMD-SHELL", "wget -q -O /dev/null http://localhost/ || exit 1"}, "Interval": int64(10 * time.Second), "Retries": 5}})
	reg.PushConfig("library/none", "1", map[string]any{"Healthcheck": map[string]any{"Test": []string{"NONE"}}})
	reg.Push("library/plain", "1", nil)
	resolve := func(ref string) Image {
		r, _ := parseOCIRef(ref)
		img, _, err := ociImageFor(context.Background(), c.oci.client(), ref, r, ociInfo(reg.URL))
		if err != nil {
			t.Fatal(err)
		}
		return withOCISource(img)
	}
	images := map[string]Image{}
	for _, ref := range []string{"app:1", "plain:1", "none:1"} {
		images[ref] = resolve(ref) // the tag lookups, before requests are counted
	}
	check := func(svc *model.Service, ref string) *model.Healthcheck {
		img, err := c.WithImageEntrypoint(context.Background(), svc, images[ref])
		if err != nil {
			t.Fatal(err)
		}
		return ImageHealthcheck(svc, img)
	}
	imageTest := []string{"CMD-SHELL", "wget -q -O /dev/null http://localhost/ || exit 1"}

	got := check(&model.Service{Name: "app"}, "app:1")
	want := &model.Healthcheck{Test: imageTest, Interval: 10 * time.Second, Timeout: 30 * time.Second, Retries: 5}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("no healthcheck: %+v, want the image's %+v", got, want)
	}
	n := len(reg.Requests)
	got = check(&model.Service{Name: "app", Healthcheck: &model.Healthcheck{Interval: 2 * time.Second, StartPeriod: time.Minute}}, "app:1")
	want = &model.Healthcheck{Test: imageTest, Interval: 2 * time.Second, Timeout: 30 * time.Second, Retries: 5, StartPeriod: time.Minute}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("healthcheck without test: %+v, want %+v", got, want)
	}
	if len(reg.Requests) != n {
		t.Errorf("the config of one digest was read twice: %v", reg.Requests[n:])
	}

	for _, svc := range []*model.Service{
		{Name: "off", Healthcheck: &model.Healthcheck{Disabled: true}},
		{Name: "own", Healthcheck: &model.Healthcheck{Test: []string{"CMD", "true"}, Interval: time.Second}},
	} {
		n := len(reg.Requests)
		if got := check(svc, "app:1"); got != svc.Healthcheck {
			t.Errorf("%s: %+v, want its own %+v", svc.Name, got, svc.Healthcheck)
		}
		if len(reg.Requests) != n {
			t.Errorf("%s: the registry was asked: %v", svc.Name, reg.Requests[n:])
		}
	}
	for _, ref := range []string{"plain:1", "none:1"} {
		if got := check(&model.Service{Name: "x"}, ref); got != nil {
			t.Errorf("%s: %+v, want no check (the image has none)", ref, got)
		}
	}
}
