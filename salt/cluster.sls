{#- Cluster membership of THIS minion (cluster.member.present runs on the member
    it ensures), maintenance, removal of retired members, and the cluster's
    storage pools and networks (by the manager).
    Pillar: incus:cluster, incus:cluster_members, incus:absent_members,
    incus:storage_pools, incus:networks (see pillars.example/cluster.sls and
    storage-networks.sls). State IDs other SLS can require/watch:
      incus-member              this minion's membership
      incus-member-maintenance  its evacuation / restore, when asked for
      incus-pool-<name>         a storage pool (on the manager)
      incus-network-<name>      a network (on the manager) -#}
{%- from tpldir ~ "/map.jinja" import incus with context %}
{%- set cl = incus.cluster %}
{%- set name = incus.local_member %}
{#- Pool and network definitions (absent ones left out): a joining member
    takes its member-specific keys (source, parent, ...) from them. #}
{%- set defined = namespace(pools={}, networks={}) %}
{%- for pool, spec in (incus.storage_pools or {}) | dictsort %}
{%-   if not (spec or {}).get('absent') %}
{%-     do defined.pools.update({pool: spec or {}}) %}
{%-   endif %}
{%- endfor %}
{%- for net, spec in (incus.networks or {}) | dictsort %}
{%-   if not (spec or {}).get('absent') %}
{%-     do defined.networks.update({net: spec or {}}) %}
{%-   endif %}
{%- endfor %}

{%- if name %}
{%-   set m = incus.cluster_members[name] %}
{%-   set token_pillar = m.cluster_token_pillar | default(cl.cluster_token_pillar) %}
incus-member:
  incus_fleet.cluster_member_present:
    - name: {{ name | json }}
    - address: {{ m.address | json }}
{%-   if name != incus.bootstrap %}
    - cluster: {{ (m.cluster | default(incus.join_url)) | json }}
{%-     if defined.pools %}
    - storage_pools: {{ defined.pools | json }}
{%-     endif %}
{%-     if defined.networks %}
    - networks: {{ defined.networks | json }}
{%-     endif %}
{%-   endif %}
{%-   if token_pillar %}
    - cluster_token_pillar: {{ token_pillar | json }}
{%-   elif cl.trust_pillar and salt['pillar.get'](cl.trust_pillar) %}
    - trust_pillar: {{ cl.trust_pillar | json }}
{%-     if name != incus.bootstrap and not salt['pillar.get'](cl.trust_pillar ~ ':server_fingerprint') %}
{#-       No pin in pillar: the bootstrap member's, from the Salt mine
          (pillar mine_functions: incus_fleet.cluster_fingerprint). #}
{%-       set mined = salt['mine.get'](incus.bootstrap_minion, 'incus_fleet.cluster_fingerprint') %}
{%-       if mined.get(incus.bootstrap_minion) %}
    - server_fingerprint: {{ mined[incus.bootstrap_minion] | json }}
{%-       endif %}
{%-     endif %}
{%-   endif %}
{%-   for key in ['labels', 'groups', 'failure_domain', 'description', 'member_config', 'cluster_password'] %}
{%-     if m[key] is defined %}
    - {{ key }}: {{ m[key] | json }}
{%-     endif %}
{%-   endfor %}
{%-   if name == incus.bootstrap and cl.config %}
    - config: {{ cl.config | json }}
{%-   endif %}

{%-   if name == incus.bootstrap and salt['pillar.get']('mine_functions:incus_fleet.cluster_fingerprint') is not none %}

{#- A new cluster: publish its fingerprint at once for the joins. #}
incus-member-fingerprint:
  module.run:
    - mine.update: []
    - onchanges:
      - incus_fleet: incus-member
{%-   endif %}

{%-   if m.evacuated is defined %}

incus-member-maintenance:
  incus_fleet.{{ 'cluster_member_evacuated' if m.evacuated else 'cluster_member_restored' }}:
    - name: {{ name | json }}
{%-     if m.evacuated and m.evacuate_mode is defined %}
    - mode: {{ m.evacuate_mode | json }}
{%-     endif %}
    - require:
      - incus_fleet: incus-member
{%-   endif %}
{%- endif %}

{%- if grains.id == incus.manager %}
{#- The cluster's storage pools and networks, created from the manager once
    it is a member (members joining later get them through their join). #}
{%-   for pool, spec in (incus.storage_pools or {}) | dictsort %}
{%-     set spec = spec or {} %}

incus-pool-{{ pool }}:
{%-     if spec.get('absent') %}
  incus_fleet.storage_pool_absent:
    - name: {{ pool | json }}
{%-     else %}
  incus_fleet.storage_pool_present:
    - name: {{ pool | json }}
    - driver: {{ spec.get('driver', 'dir') | json }}
{%-       for key in ['config', 'member_config', 'description', 'default_root'] %}
{%-         if spec[key] is defined %}
    - {{ key }}: {{ spec[key] | json }}
{%-         endif %}
{%-       endfor %}
{%-     endif %}
{%-     if name %}
    - require:
      - incus_fleet: incus-member
{%-     endif %}
{%-   endfor %}
{%-   for net, spec in (incus.networks or {}) | dictsort %}
{%-     set spec = spec or {} %}

incus-network-{{ net }}:
{%-     if spec.get('absent') %}
  incus_fleet.network_absent:
    - name: {{ net | json }}
{%-     else %}
  incus_fleet.network_present:
    - name: {{ net | json }}
{%-       for key in ['type', 'network_type', 'config', 'member_config', 'description'] %}
{%-         if spec[key] is defined %}
    - {{ key }}: {{ spec[key] | json }}
{%-         endif %}
{%-       endfor %}
{%-     endif %}
{%-     if name %}
    - require:
      - incus_fleet: incus-member
{%-     endif %}
{%-   endfor %}
{%-   for gone, opts in (incus.absent_members or {}) | dictsort %}

incus-member-absent-{{ gone }}:
  incus_fleet.cluster_member_absent:
    - name: {{ gone | json }}
    - force: {{ (opts or {}).get('force', False) | json }}
    - evacuate: {{ (opts or {}).get('evacuate', True) | json }}
{%-   endfor %}
{%- endif %}

{#- An SLS without states makes salt-call fail; say why nothing is here. #}
{%- if not name and not (grains.id == incus.manager and (incus.absent_members or incus.storage_pools or incus.networks)) %}

incus-cluster-nothing-to-do:
  test.nop:
    - name: {{ ("minion " ~ grains.id ~ " is not in incus:cluster_members") | json }}
{%- endif %}
