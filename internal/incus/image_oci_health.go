package incus

import (
	"slices"
	"time"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// Docker's healthcheck defaults, for an image's HEALTHCHECK that leaves a
// field unset (0) and a service that does not override it.
const (
	dockerHealthInterval = 30 * time.Second
	dockerHealthTimeout  = 30 * time.Second
	dockerHealthRetries  = 3
)

// inheritsHealthcheck: Docker runs the image's HEALTHCHECK unless the
// service disables it or gives its own test.
func inheritsHealthcheck(svc *model.Service) bool {
	hc := svc.Healthcheck
	return hc == nil || (!hc.Disabled && len(hc.Test) == 0)
}

// ImageHealthcheck is the check a service's instances run: its own, or,
// when it gives no test and its OCI image's config has been read
// (WithImageEntrypoint), the image's HEALTHCHECK with the service's
// interval, timeout, retries, start_period and start_interval overriding
// the image's, and Docker's defaults for what neither sets. Otherwise the
// service's healthcheck comes back as it is (one without test runs none).
func ImageHealthcheck(svc *model.Service, img Image) *model.Healthcheck {
	if !inheritsHealthcheck(svc) || img.oci == nil || !img.oci.read {
		return svc.Healthcheck
	}
	ih := img.oci.healthcheck
	if ih == nil || len(ih.Test) < 2 || (ih.Test[0] != "CMD" && ih.Test[0] != "CMD-SHELL") {
		return svc.Healthcheck // none, NONE, or a form no one can run
	}
	own := svc.Healthcheck
	if own == nil {
		own = &model.Healthcheck{}
	}
	pick := func(svcV time.Duration, imgV int64, def time.Duration) time.Duration {
		switch {
		case svcV > 0:
			return svcV
		case imgV > 0:
			return time.Duration(imgV)
		}
		return def
	}
	out := &model.Healthcheck{
		Test:          slices.Clone(ih.Test),
		Interval:      pick(own.Interval, ih.Interval, dockerHealthInterval),
		Timeout:       pick(own.Timeout, ih.Timeout, dockerHealthTimeout),
		StartPeriod:   pick(own.StartPeriod, ih.StartPeriod, 0),
		StartInterval: pick(own.StartInterval, ih.StartInterval, 0),
		Retries:       own.Retries,
	}
	if out.Retries == 0 {
		out.Retries = ih.Retries
	}
	if out.Retries <= 0 {
		out.Retries = dockerHealthRetries
	}
	return out
}
