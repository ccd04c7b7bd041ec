package composeload

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// toPorts maps published ports. A published range ("8080-8082:80") gives
// each replica its own host port, so the range is kept as start/end.
// compose-go already expands container-port ranges ("3001-3005",
// "8080-8081:80-81") into one port per container port, as Compose and
// Swarm do.
func toPorts(s types.ServiceConfig, w *warnings) ([]model.Port, error) {
	var out []model.Port
	for i, p := range s.Ports {
		attr := fmt.Sprintf("ports[%d]", i)
		proto := strings.ToLower(p.Protocol)
		if proto == "" {
			proto = "tcp"
		}
		if proto != "tcp" && proto != "udp" {
			return nil, serviceErr(s.Name, attr, "uses protocol %q; Incus proxy devices only forward tcp and udp", p.Protocol)
		}
		if p.Target < 1 || p.Target > 65535 {
			return nil, serviceErr(s.Name, attr, "has target port %d; give a container port between 1 and 65535", p.Target)
		}
		start, end, err := parsePublished(p.Published)
		if err != nil {
			return nil, serviceErr(s.Name, attr, "%v", err)
		}
		if start == 0 {
			// Docker would pick a random host port; one chosen by the
			// fleet must be the same on every run and every member.
			start, end = int(p.Target), int(p.Target)
			w.add(fmt.Sprintf("service %q: %s publishes container port %d without a host port: it is published on host port %d, the container port (Docker would pick a random one); write \"HOST:%d\" to choose another",
				s.Name, attr, p.Target, start, p.Target))
		}
		out = append(out, model.Port{
			HostIP:         p.HostIP,
			PublishedStart: start,
			PublishedEnd:   end,
			Target:         int(p.Target),
			Protocol:       proto,
		})
	}
	return out, nil
}

// parsePublished reads "", "8080" or "8080-8082"; 0 means not published.
func parsePublished(s string) (start, end int, err error) {
	if s == "" {
		return 0, 0, nil
	}
	lo, hi, isRange := strings.Cut(s, "-")
	if start, err = hostPort(lo); err != nil {
		return 0, 0, err
	}
	end = start
	if isRange {
		if end, err = hostPort(hi); err != nil {
			return 0, 0, err
		}
		if end < start {
			return 0, 0, fmt.Errorf("has published range %q that ends before it starts; write it low-high", s)
		}
	}
	return start, end, nil
}

func hostPort(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 65535 {
		return 0, fmt.Errorf("has published port %q; give a host port between 1 and 65535", s)
	}
	if n == 0 {
		return 0, errors.New("publishes host port 0 (a random port), which replicas cannot share; give a fixed port or range, or omit it")
	}
	return n, nil
}
