# incus formula: cluster membership of this minion, then the stacks, then
# a `stack watch` per stack on every member (watch.sls).
#   salt '*' state.apply incus
include:
  - .cluster
  - .stacks
  - .watch
