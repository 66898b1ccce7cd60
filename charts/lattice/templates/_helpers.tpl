{{/* Chart name, truncated to the 63 characters a label value allows. */}}
{{- define "lattice.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Prefix of every object's name: the release name, with the chart's unless it holds it. */}}
{{- define "lattice.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
The services the chart runs, with what is fixed by their code: the app directory (and image
name), the port of their HTTP endpoints and the variable that sets it, the database schema of
those that have one, and the workload kind. Keyed by their values key.
*/}}
{{- define "lattice.components" -}}
gateway: {app: gateway, port: 8080, portEnv: GATEWAY_PORT, kind: Deployment, api: true}
tenants: {app: tenants, port: 8081, portEnv: TENANTS_HTTP_PORT, schema: tenants, kind: Deployment, api: true}
auth: {app: auth, port: 8082, portEnv: AUTH_HTTP_PORT, schema: auth, kind: Deployment, api: true}
audit: {app: audit, port: 8083, portEnv: AUDIT_HTTP_PORT, schema: audit, kind: Deployment, api: true}
scheduler: {app: scheduler, port: 8084, portEnv: SCHEDULER_HTTP_PORT, schema: scheduler, kind: Deployment, api: true}
gpuNodes: {app: gpu-nodes, port: 8085, portEnv: GPU_NODES_HTTP_PORT, schema: gpu, kind: Deployment, api: true}
rag: {app: rag, port: 8087, portEnv: RAG_HTTP_PORT, schema: rag, kind: Deployment, api: true}
gpuAgent: {app: gpu-agent, port: 8086, portEnv: GPU_AGENT_HTTP_PORT, kind: DaemonSet}
inferenceWorker: {app: inference-worker, port: 8091, portEnv: INFERENCE_WORKER_HTTP_PORT, kind: Deployment}
operator: {app: operator, port: 8090, portEnv: OPERATOR_HTTP_PORT, kind: Deployment}
{{- end -}}

{{/* The components the values enable, as a dict like lattice.components. */}}
{{- define "lattice.enabledComponents" -}}
{{- $out := dict -}}
{{- range $key, $c := fromYaml (include "lattice.components" .) -}}
{{- if (index $.Values $key).enabled -}}
{{- $_ := set $out $key $c -}}
{{- end -}}
{{- end -}}
{{- toYaml $out -}}
{{- end -}}

{{/* Name of a component's objects: (dict "root" $ "app" "gateway") */}}
{{- define "lattice.componentName" -}}
{{- printf "%s-%s" (include "lattice.fullname" .root) .app | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "lattice.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "lattice.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: lattice
{{- end -}}

{{/* Labels that select a component's pods: (dict "root" $ "app" "gateway") */}}
{{- define "lattice.selectorLabels" -}}
app.kubernetes.io/name: {{ include "lattice.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .app }}
{{- end -}}

{{- define "lattice.componentLabels" -}}
{{ include "lattice.labels" .root }}
app.kubernetes.io/component: {{ .app }}
{{- end -}}

{{/* A component's image: (dict "root" $ "values" .Values.gateway) */}}
{{- define "lattice.image" -}}
{{- $registry := .root.Values.image.registry -}}
{{- $repository := .values.image.repository -}}
{{- $tag := .values.image.tag | default .root.Values.image.tag | default .root.Chart.AppVersion -}}
{{- if $registry -}}
{{- printf "%s/%s:%s" $registry $repository $tag -}}
{{- else -}}
{{- printf "%s:%s" $repository $tag -}}
{{- end -}}
{{- end -}}

{{/* An image of a bundled dependency: (dict "root" $ "image" .Values.postgresql.bundled.image) */}}
{{- define "lattice.dependencyImage" -}}
{{- if .image.registry -}}
{{- printf "%s/%s:%s" .image.registry .image.repository .image.tag -}}
{{- else -}}
{{- printf "%s:%s" .image.repository .image.tag -}}
{{- end -}}
{{- end -}}

{{/* Pod- and container-level security contexts every workload shares. */}}
{{- define "lattice.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.securityContext.runAsUser }}
runAsGroup: {{ .Values.securityContext.runAsGroup }}
fsGroup: {{ .Values.securityContext.runAsGroup }}
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "lattice.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "lattice.secretName" -}}
{{- .Values.secrets.existingSecret | default (printf "%s-secrets" (include "lattice.fullname" .)) -}}
{{- end -}}

{{/* The Secret of request-context keys: the values' own, else the one the hook Job keeps. */}}
{{- define "lattice.contextKeysSecretName" -}}
{{- .Values.secrets.contextKeys.existingSecret | default (printf "%s-context-keys" (include "lattice.fullname" .)) -}}
{{- end -}}

{{/* Every service the chart can run (enabled or not), by app name: each has a context key. */}}
{{- define "lattice.allApps" -}}
{{- $apps := list -}}
{{- range $key, $c := fromYaml (include "lattice.components" .) -}}
{{- $apps = append $apps $c.app -}}
{{- end -}}
{{- toJson (sortAlpha $apps) -}}
{{- end -}}

{{- define "lattice.postgresqlName" -}}
{{- printf "%s-postgresql" (include "lattice.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "lattice.natsName" -}}
{{- printf "%s-nats" (include "lattice.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
The NATS users of the bundled server, by user name (the service's name): the chart's
files/nats-permissions.json ({users: [{service, publish, subscribe, allow_responses?}]}), kept to
the apps the release runs (users of services the chart does not run, such as the GPU simulator of
a development platform, are left out). None without the file or with authorization off.
*/}}
{{- define "lattice.natsUsers" -}}
{{- $raw := .Files.Get "files/nats-permissions.json" -}}
{{- $users := dict -}}
{{- if and $raw .Values.nats.bundled.enabled .Values.nats.bundled.authorization -}}
{{- $apps := list -}}
{{- range $key, $c := fromYaml (include "lattice.enabledComponents" .) -}}
{{- $apps = append $apps $c.app -}}
{{- end -}}
{{- range $user := (fromJson $raw).users -}}
{{- if has $user.service $apps -}}
{{- $_ := set $users $user.service (omit $user "service") -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- toJson $users -}}
{{- end -}}

{{/* The Secret with a NATS password per service, or nothing where services connect without a user. */}}
{{- define "lattice.natsPasswordSecret" -}}
{{- if .Values.nats.bundled.enabled -}}
{{- if ne (include "lattice.natsUsers" .) "{}" -}}
{{- include "lattice.secretName" . -}}
{{- end -}}
{{- else -}}
{{- .Values.nats.external.auth.existingSecret -}}
{{- end -}}
{{- end -}}

{{/*
The generated secret values, computed once per render (the migration hook's Secret and the
release's Secret must agree): each key kept from the Secret the last install or upgrade wrote
(lookup), else generated. Returned as JSON.
*/}}
{{- define "lattice.generatedSecrets" -}}
{{- if not (hasKey .Values "__latticeGenerated") -}}
{{- $name := printf "%s-secrets" (include "lattice.fullname" .) -}}
{{- $previous := dict -}}
{{- with lookup "v1" "Secret" .Release.Namespace $name -}}
{{- $previous = .data | default dict -}}
{{- end -}}
{{- $wanted := dict
  "internal-secret" (randAlphaNum 48)
  "kek" (printf "k%s:%s" (now | date "20060102") (randBytes 32))
  "audit-checkpoint-key" (genPrivateKey "ed25519")
  "admin-password" (randAlphaNum 24)
-}}
{{- range $key, $c := fromYaml (include "lattice.components" .) -}}
{{- if $c.schema -}}
{{- $_ := set $wanted (printf "db-password-%s" $c.app) (randAlphaNum 32) -}}
{{- end -}}
{{- end -}}
{{- if .Values.postgresql.bundled.enabled -}}
{{- $_ := set $wanted "postgres-password" (randAlphaNum 32) -}}
{{- end -}}
{{- range $user, $permissions := fromJson (include "lattice.natsUsers" .) -}}
{{- $_ := set $wanted (printf "nats-password-%s" $user) (randAlphaNum 32) -}}
{{- end -}}
{{- $out := dict -}}
{{- range $key, $value := $wanted -}}
{{- if hasKey $previous $key -}}
{{- $_ := set $out $key (index $previous $key | b64dec) -}}
{{- else -}}
{{- $_ := set $out $key $value -}}
{{- end -}}
{{- end -}}
{{- $_ := set .Values "__latticeGenerated" $out -}}
{{- end -}}
{{- toJson (index .Values "__latticeGenerated") -}}
{{- end -}}

{{/* The owner-role URL of the database, for the generated Secret (external from values, or bundled). */}}
{{- define "lattice.databaseUrl" -}}
{{- if .Values.postgresql.bundled.enabled -}}
{{- $secrets := fromJson (include "lattice.generatedSecrets" .) -}}
{{- printf "postgres://postgres:%s@%s:5432/%s" (index $secrets "postgres-password") (include "lattice.postgresqlName" .) .Values.postgresql.bundled.database -}}
{{- else -}}
{{- .Values.postgresql.external.url -}}
{{- end -}}
{{- end -}}

{{/* Where services find DATABASE_URL: a secretKeyRef. */}}
{{- define "lattice.databaseUrlRef" -}}
{{- if and (not .Values.postgresql.bundled.enabled) .Values.postgresql.external.existingSecret -}}
name: {{ .Values.postgresql.external.existingSecret }}
key: {{ .Values.postgresql.external.existingSecretUrlKey }}
{{- else -}}
name: {{ include "lattice.secretName" . }}
key: database-url
{{- end -}}
{{- end -}}

{{/*
NATS_URL of a component, and its NATS user where the server has one per service:
(dict "root" $ "app" "gateway"), as env entries.
*/}}
{{- define "lattice.natsEnv" -}}
{{- $root := .root -}}
- name: NATS_URL
{{- if $root.Values.nats.bundled.enabled }}
  value: {{ printf "nats://%s:4222" (include "lattice.natsName" $root) | quote }}
{{- else if $root.Values.nats.external.existingSecret }}
  valueFrom:
    secretKeyRef:
      name: {{ $root.Values.nats.external.existingSecret }}
      key: {{ $root.Values.nats.external.existingSecretUrlKey }}
{{- else }}
  value: {{ $root.Values.nats.external.url | quote }}
{{- end }}
{{- $secret := include "lattice.natsPasswordSecret" $root }}
{{- $users := fromJson (include "lattice.natsUsers" $root) }}
{{- if and $secret (or (not $root.Values.nats.bundled.enabled) (hasKey $users .app)) }}
- name: LATTICE_NATS_USER
  value: {{ .app | quote }}
- name: LATTICE_NATS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: nats-password-{{ .app }}
{{- end }}
{{- end -}}

{{/* A component's request-context keys: its own private key and every service's public keys. */}}
{{- define "lattice.contextKeyEnv" -}}
- name: LATTICE_CONTEXT_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "lattice.contextKeysSecretName" .root }}
      key: context-key-{{ .app }}
- name: LATTICE_CONTEXT_PUBLIC_KEYS
  valueFrom:
    secretKeyRef:
      name: {{ include "lattice.contextKeysSecretName" .root }}
      key: context-public-keys
{{- end -}}

{{/* Stops an install whose values cannot work, saying what to change. */}}
{{- define "lattice.validateValues" -}}
{{- $errors := list -}}
{{- if and (not .Values.postgresql.bundled.enabled) (not .Values.postgresql.external.url) (not .Values.postgresql.external.existingSecret) -}}
{{- $errors = append $errors "postgresql: set postgresql.external.url or postgresql.external.existingSecret (a PostgreSQL with pgvector), or postgresql.bundled.enabled=true for an evaluation" -}}
{{- end -}}
{{- if and (not .Values.nats.bundled.enabled) (not .Values.nats.external.url) (not .Values.nats.external.existingSecret) -}}
{{- $errors = append $errors "nats: set nats.external.url or nats.external.existingSecret (a NATS server with JetStream), or nats.bundled.enabled=true for an evaluation" -}}
{{- end -}}
{{- if and .Values.ingress.enabled (not .Values.gateway.enabled) -}}
{{- $errors = append $errors "ingress: ingress.enabled needs gateway.enabled" -}}
{{- end -}}
{{- if $errors -}}
{{- fail (printf "\n\nVALUES VALIDATION:\n%s" (join "\n" $errors)) -}}
{{- end -}}
{{- end -}}

{{/* The API services a default ScalingPolicy scales (their replicas are left to the operator). */}}
{{- define "lattice.scaledComponents" -}}
{{- $out := dict -}}
{{- if .Values.scalingPolicies.api.enabled -}}
{{- range $key, $c := fromYaml (include "lattice.enabledComponents" .) -}}
{{- if $c.api -}}
{{- $_ := set $out $key $c -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- toYaml $out -}}
{{- end -}}

{{/* Egress rules to NATS: the bundled server's pods, or the external server's port. */}}
{{- define "lattice.natsEgress" -}}
{{- if .Values.nats.bundled.enabled -}}
- to:
    - podSelector:
        matchLabels:
          {{- include "lattice.selectorLabels" (dict "root" . "app" "nats") | nindent 10 }}
  ports:
    - {protocol: TCP, port: 4222}
{{- else -}}
- ports:
    - {protocol: TCP, port: {{ .Values.nats.external.port }}}
{{- end -}}
{{- end -}}

{{/* Egress rules to PostgreSQL: the bundled server's pods, or the external server's port. */}}
{{- define "lattice.postgresqlEgress" -}}
{{- if .Values.postgresql.bundled.enabled -}}
- to:
    - podSelector:
        matchLabels:
          {{- include "lattice.selectorLabels" (dict "root" . "app" "postgresql") | nindent 10 }}
  ports:
    - {protocol: TCP, port: 5432}
{{- else -}}
- ports:
    - {protocol: TCP, port: {{ .Values.postgresql.external.port }}}
{{- end -}}
{{- end -}}
