// Package scheduler decides which cluster member each new replica of a
// service goes to. It is pure: it reads a model.ClusterState and knows
// nothing of Incus, so every decision can be replayed and explained offline.
//
// The design follows swarmkit's pipeline: a list of small static filters
// (online, each constraint) decides once per service which members are
// eligible at all, and a list of limits (max_replicas_per_node, published
// ports, reservations) bounds how many replicas each eligible member can
// still take. Every filter and limit explains its own rejections, so a
// failed placement reads like Swarm's "no suitable node" message.
//
// Placement walks a spread tree (one level per spread preference) picking,
// at each level, the branch with the fewest replicas of the service. That is
// water-filling one replica at a time: branches end up even within one
// whenever capacity allows, and existing replicas count, so new ones go to
// under-filled branches. Each step costs O(depth × log fan-out), so planning
// stays near-linear in replicas and members.
package scheduler
