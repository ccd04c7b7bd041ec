# incus formula: cluster membership of this minion, then the stacks.
#   salt '*' state.apply incus
include:
  - .cluster
  - .stacks
