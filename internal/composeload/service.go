package composeload

import (
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// incusExtension is the service extension for Incus-specific settings.
const incusExtension = "x-incus"

// Docker's healthcheck defaults, filled in so the rollout never guesses.
const (
	defaultHealthInterval = 30 * time.Second
	defaultHealthTimeout  = 30 * time.Second
	defaultHealthRetries  = 3
)

// toService reduces one compose-go service to what the fleet acts on.
func toService(s types.ServiceConfig, w *warnings) (model.Service, error) {
	image, err := serviceImage(s)
	if err != nil {
		return model.Service{}, err
	}
	if s.Build != nil {
		w.add(unsupported(s.Name, "build", "images must already exist in Incus: set image or x-incus.image"))
	}
	ports, err := toPorts(s, w)
	if err != nil {
		return model.Service{}, err
	}
	health, err := toHealthcheck(s, w)
	if err != nil {
		return model.Service{}, err
	}
	deploy, err := toDeploy(s, w)
	if err != nil {
		return model.Service{}, err
	}
	if err := checkContainerName(s, deploy, w); err != nil {
		return model.Service{}, err
	}
	if deploy.Placement, err = withPlatform(s, deploy.Placement); err != nil { // platform.go
		return model.Service{}, err
	}
	runtime, err := toRuntime(s, w) // runtime.go
	if err != nil {
		return model.Service{}, err
	}
	hash, err := serviceHash(s, image)
	if err != nil {
		return model.Service{}, err
	}
	return model.Service{
		Runtime:     runtime,
		DependsOn:   toDependencies(s, w),
		Name:        s.Name,
		Image:       image,
		Command:     slices.Clone([]string(s.Command)),
		Entrypoint:  slices.Clone([]string(s.Entrypoint)),
		Environment: environmentValues(s.Environment),
		Labels:      labels(s.Labels),
		Ports:       ports,
		Healthcheck: health,
		Deploy:      deploy,
		Hash:        hash,
	}, nil
}

// serviceImage picks x-incus.image over image: Incus image aliases
// ("images:debian/12") are not valid OCI references, and a compose file
// shared with docker keeps its docker image while naming the Incus one.
func serviceImage(s types.ServiceConfig) (string, error) {
	image := s.Image
	if ext, ok := s.Extensions[incusExtension]; ok && ext != nil {
		m, ok := ext.(map[string]any)
		if !ok {
			return "", serviceErr(s.Name, incusExtension, "must be a mapping, e.g. x-incus: {image: images:debian/12}")
		}
		if v, ok := m["image"]; ok && v != nil {
			str, ok := v.(string)
			if !ok || strings.TrimSpace(str) == "" {
				return "", serviceErr(s.Name, incusExtension+".image", "must be a non-empty image name, e.g. images:debian/12")
			}
			image = str
		}
	}
	if strings.TrimSpace(image) == "" {
		return "", serviceErr(s.Name, "image", "is required: set image (or x-incus.image) to an image that exists in Incus; build is not supported")
	}
	return image, nil
}

// environmentValues drops variables left without a value (`- FOO` with FOO
// unset anywhere), as docker does: they are not passed to the container.
func environmentValues(env types.MappingWithEquals) map[string]string {
	out := map[string]string{}
	for k, v := range env {
		if v != nil {
			out[k] = *v
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func labels(l types.Labels) map[string]string {
	if len(l) == 0 {
		return nil
	}
	return maps.Clone(map[string]string(l))
}

// toHealthcheck maps healthcheck with Docker's defaults. disable: true and
// test ["NONE"] both mean no healthcheck, not even the image's. Without
// test, the image's HEALTHCHECK runs (an OCI image's, read when its
// config is: internal/incus/image_oci_health.go) with the durations and
// retries given here; those left out stay 0 until then.
func toHealthcheck(s types.ServiceConfig, w *warnings) (*model.Healthcheck, error) {
	h := s.HealthCheck
	if h == nil {
		return nil, nil
	}
	if h.Disable || (len(h.Test) > 0 && h.Test[0] == "NONE") {
		return &model.Healthcheck{Disabled: true}, nil
	}
	inherit := len(h.Test) == 0
	switch {
	case inherit:
	case h.Test[0] == "CMD", h.Test[0] == "CMD-SHELL":
	default: // compose-go rejects this already; kept so the model never holds it

		return nil, serviceErr(s.Name, "healthcheck.test", "must start with \"CMD\" or \"CMD-SHELL\" (or be a plain string for the shell), got %q", h.Test[0])
	}
	if !inherit && len(h.Test) < 2 {
		return nil, serviceErr(s.Name, "healthcheck.test", "has no command after %q; add the command to run", h.Test[0])
	}
	out := &model.Healthcheck{
		Test:     slices.Clone([]string(h.Test)),
		Interval: defaultHealthInterval,
		Timeout:  defaultHealthTimeout,
		Retries:  defaultHealthRetries,
	}
	if inherit {
		out = &model.Healthcheck{}
	}
	for _, d := range []struct {
		attr string
		in   *types.Duration
		out  *time.Duration
	}{
		{"healthcheck.interval", h.Interval, &out.Interval},
		{"healthcheck.timeout", h.Timeout, &out.Timeout},
		{"healthcheck.start_period", h.StartPeriod, &out.StartPeriod},
		{"healthcheck.start_interval", h.StartInterval, &out.StartInterval},
	} {
		if d.in == nil || *d.in == 0 {
			continue // Docker reads 0 as "use the default"
		}
		if *d.in < 0 {
			return nil, serviceErr(s.Name, d.attr, "%s is negative; use a duration such as 30s", time.Duration(*d.in))
		}
		*d.out = time.Duration(*d.in)
	}
	if h.Retries != nil {
		if *h.Retries > math.MaxInt32 {
			return nil, serviceErr(s.Name, "healthcheck.retries", "%d is too large", *h.Retries)
		}
		out.Retries = int(*h.Retries)
	}
	return out, nil
}
