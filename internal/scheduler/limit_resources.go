package scheduler

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// resourcesLimit is deploy.resources.reservations against the member's free
// capacity. A member reporting 0 capacity is unknown and not checked, so a
// snapshot without resource data still plans.
type resourcesLimit struct {
	cpu int64 // milli-CPUs per replica
	mem int64 // bytes per replica
}

func (l resourcesLimit) room(s *Service, i int) int {
	r := unlimited
	m := &s.c.members[i]
	if l.cpu > 0 && m.CPUs > 0 {
		r = min(r, int(max(s.c.freeCPU[i], 0)/l.cpu))
	}
	if l.mem > 0 && m.MemoryBytes > 0 {
		r = min(r, int(max(s.c.freeMem[i], 0)/l.mem))
	}
	return r
}

func (resourcesLimit) bindsExisting() bool { return false }

func (l resourcesLimit) explain(_ *Cluster, reached []int) string {
	var need []string
	if l.cpu > 0 {
		need = append(need, strconv.FormatFloat(float64(l.cpu)/1000, 'f', -1, 64)+" CPUs")
	}
	if l.mem > 0 {
		need = append(need, formatBytes(l.mem)+" memory")
	}
	return fmt.Sprintf("insufficient resources on %s (reserving %s per replica)",
		plural(len(reached), "member"), strings.Join(need, ", "))
}

// milliCPUs converts a Compose cpus value; integers avoid float drift when
// thousands of 0.1-CPU replicas are subtracted one by one.
func milliCPUs(cpus float64) int64 {
	if cpus <= 0 {
		return 0
	}
	return int64(math.Ceil(cpus*1000 - 1e-9))
}

func formatBytes(b int64) string {
	const unit = 1024
	if b < unit {
		return strconv.FormatInt(b, 10) + "B"
	}
	units := []string{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	v, u := float64(b)/unit, 0
	for v >= unit && u < len(units)-1 {
		v /= unit
		u++
	}
	return strings.TrimSuffix(strconv.FormatFloat(v, 'f', 1, 64), ".0") + units[u]
}
