{#- `incus-fleet stack watch` for every stack of pillar incus:stacks, on
    every cluster member (or incus:watch:members), as the systemd unit
    incus-fleet-watch@<stack> (files/incus-fleet-watch@.service). Each
    watcher re-creates a lost member's replicas, follows joining members and
    runs the replicas' healthchecks; with one on every member, losing any
    member (the manager included) is healed without a Salt run.

    The watcher reads the stack's Compose input from
    /etc/incus-fleet/stacks/<stack>/ (compose_yaml, or each compose_files
    entry, copied from salt://) and its flags from /etc/incus-fleet/<stack>.env
    (mode 0600: --env values may be secrets). A stack marked absent has its
    watcher stopped and disabled. -#}
{%- from tpldir ~ "/map.jinja" import incus with context %}
{%- set watch = incus.watch %}
{%- set member = incus.local_member %}
{%- set selected = member and watch.enabled and (not watch.members or member in watch.members) %}
{%- set systemd = watch.service == 'systemd' or (watch.service == 'auto' and grains.get('init') == 'systemd') %}
{%- set stacks = incus.stacks or {} %}

{%- if not selected or not stacks %}

incus-watch-nothing-to-do:
  test.nop:
    - name: {{ ("no stack watchers on minion " ~ grains.id ~ (" (not a selected cluster member)" if not selected else " (no stacks)")) | json }}
{%- elif not systemd %}

incus-watch-no-systemd:
  test.nop:
    - name: {{ ("no stack watchers on minion " ~ grains.id ~ ": it does not run systemd (grains.init " ~ grains.get('init', '?') ~ "); set incus:watch:service: systemd to force the units, or run `incus-fleet stack watch` under your own supervisor") | json }}
{%- else %}

{%-   if incus.manager == grains.id %}
include:
  - .stacks
{%-   endif %}

{#- The unit runs /usr/local/bin/incus-fleet; Salt's systemd module reloads
    systemd when a unit file changed on disk. #}
incus-watch-unit:
  file.managed:
    - name: /etc/systemd/system/incus-fleet-watch@.service
    - source: salt://{{ tpldir }}/files/incus-fleet-watch@.service
    - mode: '0644'

{%-   for name, stack in stacks | dictsort %}
{%-     if stack.absent | default(False) %}

incus-watch-{{ name }}:
  service.dead:
    - name: {{ ("incus-fleet-watch@" ~ name) | json }}
    - enable: False
{%-     else %}
{%-       set dir = "/etc/incus-fleet/stacks/" ~ name %}
{%-       set files = [] %}
{%-       if stack.compose_yaml is defined %}
{%-         do files.append({"target": dir ~ "/compose.yaml", "contents": stack.compose_yaml}) %}
{%-       else %}
{%-         for src in stack.compose_files | default([]) %}
{%-           do files.append({"target": dir ~ "/" ~ loop.index0 ~ "-" ~ (src | replace("\\", "/")).split("/") | last, "source": src}) %}
{%-         endfor %}
{%-       endif %}
{%-       set args = [] %}
{%-       for f in files[1:] %}{% do args.append("-f " ~ f.target) %}{% endfor %}
{%-       for k, v in (stack.env | default({})) | dictsort %}{% do args.append("--env " ~ k ~ "=" ~ v) %}{% endfor %}
{%-       for p in stack.profiles | default([]) %}{% do args.append("--profile " ~ p) %}{% endfor %}
{%-       for s in stack.services | default([]) %}{% do args.append("--service " ~ s) %}{% endfor %}
{%-       if watch.args %}{% do args.append(watch.args) %}{% endif %}
{%-       set spaced = [] %}
{%-       for k, v in (stack.env | default({})) | dictsort if (v | string).split() | length != 1 %}{% do spaced.append(k) %}{% endfor %}
{%-       if not files %}

incus-watch-{{ name }}:
  test.nop:
    - name: {{ ("stack " ~ name ~ ": no watcher: the watch reads compose_yaml or compose_files, and this stack has neither (a bundle)") | json }}
{%-       elif spaced %}

incus-watch-{{ name }}:
  test.fail_without_changes:
    - name: {{ ("stack " ~ name ~ ": env " ~ (spaced | join(", ")) ~ " is empty or holds whitespace, which the watch unit's WATCH_ARGS cannot carry (systemd splits it on spaces); give the value without spaces, or run the watch under your own supervisor") | json }}
{%-       else %}
{%-         for f in files %}

incus-watch-{{ name }}-compose-{{ loop.index0 }}:
  file.managed:
    - name: {{ f.target | json }}
{%-           if f.source is defined %}
    - source: {{ f.source | json }}
{%-           else %}
    - contents: {{ f.contents | json }}
{%-           endif %}
    - makedirs: True
    - mode: '0640'
{%-         endfor %}

incus-watch-{{ name }}-env:
  file.managed:
    - name: {{ ("/etc/incus-fleet/" ~ name ~ ".env") | json }}
    - contents: |
        COMPOSE_FILE={{ (files | first).target }}
        WATCH_ARGS={{ args | join(" ") }}
    - makedirs: True
    - mode: '0600'
    - show_changes: False

incus-watch-{{ name }}:
  service.running:
    - name: {{ ("incus-fleet-watch@" ~ name) | json }}
    - enable: True
    - watch:
      - file: incus-watch-unit
      - file: incus-watch-{{ name }}-env
{%-         for f in files %}
      - file: incus-watch-{{ name }}-compose-{{ loop.index0 }}
{%-         endfor %}
{%-         if incus.manager == grains.id %}
      - incus_fleet: incus-stack-{{ name }}
{%-         endif %}
{%-       endif %}
{%-     endif %}
{%-   endfor %}
{%- endif %}
