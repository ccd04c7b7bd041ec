# The five HA examples of the Compose `deploy` proposal (seed 000), one stack
# each, deployed by the manager minion (the bootstrap member unless
# incus:cluster:manager says otherwise) with `state.apply incus.stacks`.
#
# `image:` keeps the seed's Docker image names; `x-incus: {image: ...}` names
# the Incus image alias each service really runs. `busybox` is the image of
# the loopback test bed (testdata/testbed); use your own aliases.
#
# A stack takes the arguments of incus.compose_stack_present: compose_yaml
# (inline, as here), compose_files (salt:// or local paths; files next to them
# that they reference are cached too), bundle, env, profiles, services,
# force_recreate, support_files. `absent: true` removes a stack.
incus:
  stacks:
    # 1. Basic replica scaling: web-1..web-3, spread over the members.
    web:
      compose_yaml: |
        services:
          web:
            image: nginx:alpine
            x-incus: {image: busybox}
            deploy:
              replicas: 3

    # 2. Global mode: one agent per member; a member that joins gets one
    #    (the stacks watch this minion's membership, see salt/stacks.sls).
    monitoring:
      compose_yaml: |
        services:
          agent:
            image: monitoring-agent:latest
            x-incus: {image: busybox}
            deploy:
              mode: global

    # 3. Placement: only members labelled storage=ssd (cluster.sls labels
    #    node1 and node2), spread over zones. The seed's `spread: instanceId`
    #    works too (it spreads over members, with a warning).
    db:
      compose_yaml: |
        services:
          db:
            image: postgres:14
            x-incus: {image: busybox}
            deploy:
              replicas: 2
              placement:
                constraints:
                  - node.labels.storage == ssd
                preferences:
                  - spread: node.labels.zone

    # 4. Restart policy: on-failure -> boot.autostart/boot.autorestart true;
    #    delay and max_attempts have no Incus equivalent (one warning).
    worker:
      compose_yaml: |
        services:
          worker:
            image: myworker:latest
            x-incus: {image: busybox}
            deploy:
              restart_policy:
                condition: on-failure
                delay: 5s
                max_attempts: 3

    # 5. Rolling updates: one replica at a time, new one started before the
    #    old one stops, 10 s between replicas. Change GREETING (or the image)
    #    and re-apply to watch it roll.
    web-rolling:
      env:
        GREETING: hello
      compose_yaml: |
        services:
          web:
            image: nginx:alpine
            x-incus: {image: busybox}
            environment:
              GREETING: ${GREETING}
            deploy:
              replicas: 3
              update_config:
                parallelism: 1
                delay: 10s
                order: start-first
