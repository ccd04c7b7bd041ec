package scheduler

import "fmt"

// maxReplicasLimit is deploy.placement.max_replicas_per_node.
type maxReplicasLimit struct{ max int }

func (l maxReplicasLimit) room(s *Service, i int) int { return max(l.max-s.count[i], 0) }

func (maxReplicasLimit) bindsExisting() bool { return true }

func (l maxReplicasLimit) explain(_ *Cluster, reached []int) string {
	return fmt.Sprintf("max_replicas_per_node=%d reached on %s", l.max, plural(len(reached), "member"))
}
