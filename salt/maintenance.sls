{#- Rolling member maintenance, for the master:
      salt-run state.orchestrate incus.maintenance
    (the orchestration itself is orch/maintenance.sls). -#}
include:
  - .orch.maintenance
