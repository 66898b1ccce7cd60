{{/* A secretKeyRef env entry from the chart's Secret: (dict "root" $ "name" "X" "key" "k") */}}
{{- define "lattice.secretEnv" -}}
- name: {{ .name }}
  valueFrom:
    secretKeyRef:
      name: {{ include "lattice.secretName" .root }}
      key: {{ .key }}
{{- end -}}

{{/* The database variables of a component with a schema: (dict "root" $ "app" "tenants") */}}
{{- define "lattice.databaseEnv" -}}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      {{- include "lattice.databaseUrlRef" .root | nindent 6 }}
{{ include "lattice.secretEnv" (dict "root" .root "name" "DATABASE_APP_PASSWORD" "key" (printf "db-password-%s" .app)) }}
{{- end -}}

{{/*
The environment of a component, as its config module reads it:
(dict "root" $ "key" "gateway" "component" $c)
*/}}
{{- define "lattice.componentEnv" -}}
{{- $root := .root -}}
{{- $c := .component -}}
{{- $values := index $root.Values .key -}}
- name: {{ $c.portEnv }}
  value: {{ $c.port | quote }}
- name: LOG_LEVEL
  value: {{ $values.logLevel | default $root.Values.logLevel | quote }}
- name: LATTICE_LOG_FORMAT
  value: json
{{- with $root.Values.subjectPrefix }}
- name: LATTICE_NAMESPACE
  value: {{ . | quote }}
{{- end }}
{{ include "lattice.natsEnv" (dict "root" $root "app" $c.app) }}
{{ include "lattice.contextKeyEnv" (dict "root" $root "app" $c.app) }}
{{ include "lattice.secretEnv" (dict "root" $root "name" "LATTICE_INTERNAL_SECRET" "key" "internal-secret") }}
{{- if $c.schema }}
{{ include "lattice.databaseEnv" (dict "root" $root "app" $c.app) }}
{{- end }}
{{- if eq .key "gateway" }}
- name: GATEWAY_TRUST_PROXY
  value: {{ $values.trustProxy | quote }}
- name: GATEWAY_BODY_LIMIT_BYTES
  value: {{ $values.bodyLimitBytes | int64 | quote }}
- name: AUTH_ISSUER
  value: {{ $root.Values.tokens.issuer | quote }}
- name: AUTH_AUDIENCE
  value: {{ $root.Values.tokens.audience | quote }}
{{- if $values.redis.existingSecret }}
- name: REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ $values.redis.existingSecret }}
      key: {{ $values.redis.existingSecretUrlKey }}
{{- else if $values.redis.url }}
{{ include "lattice.secretEnv" (dict "root" $root "name" "REDIS_URL" "key" "redis-url") }}
{{- end }}
{{- else if eq .key "auth" }}
- name: AUTH_ISSUER
  value: {{ $root.Values.tokens.issuer | quote }}
- name: AUTH_AUDIENCE
  value: {{ $root.Values.tokens.audience | quote }}
{{ include "lattice.secretEnv" (dict "root" $root "name" "LATTICE_KEK" "key" "kek") }}
- name: AUTH_ADMIN_EMAIL
  value: {{ $values.adminEmail | quote }}
{{ include "lattice.secretEnv" (dict "root" $root "name" "AUTH_ADMIN_PASSWORD" "key" "admin-password") }}
{{- else if eq .key "audit" }}
{{ include "lattice.secretEnv" (dict "root" $root "name" "LATTICE_KEK" "key" "kek") }}
{{ include "lattice.secretEnv" (dict "root" $root "name" "AUDIT_CHECKPOINT_KEY" "key" "audit-checkpoint-key") }}
- name: AUDIT_CHECKPOINT_INTERVAL_SECONDS
  value: {{ $values.checkpointIntervalSeconds | int64 | quote }}
- name: AUDIT_PLATFORM_RETENTION_DAYS
  value: {{ $values.platformRetentionDays | int64 | quote }}
- name: AUDIT_BATCH_SIZE
  value: {{ $values.batchSize | int64 | quote }}
- name: AUDIT_BATCHES_IN_FLIGHT
  value: {{ $values.batchesInFlight | int64 | quote }}
{{- with $values.nodeOptions }}
- name: NODE_OPTIONS
  value: {{ . | quote }}
{{- end }}
{{- /* the services of this release that hold personal data answer subject access and erasure */}}
{{- $gdpr := list "audit" }}
{{- if $root.Values.auth.enabled }}{{ $gdpr = append $gdpr "auth" }}{{ end }}
{{- if $root.Values.rag.enabled }}{{ $gdpr = append $gdpr "rag" }}{{ end }}
- name: AUDIT_GDPR_SERVICES
  value: {{ join "," $gdpr | quote }}
{{- else if eq .key "gpuAgent" }}
- name: NODE_NAME
  valueFrom:
    fieldRef:
      fieldPath: spec.nodeName
- name: HOST_IP
  valueFrom:
    fieldRef:
      fieldPath: status.hostIP
- name: LATTICE_GPU_AGENT_DCGM_URL
  value: {{ $values.dcgmExporterUrl | quote }}
{{- else if eq .key "rag" }}
- name: POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
{{- with $values.embeddings }}
{{- if .url }}
- name: LATTICE_EMBEDDINGS_URL
  value: {{ .url | quote }}
- name: LATTICE_EMBEDDINGS_MODEL
  value: {{ required "rag.embeddings.model is required with rag.embeddings.url" .model | quote }}
{{- if .dimension }}
- name: LATTICE_EMBEDDINGS_DIMENSION
  value: {{ .dimension | int64 | quote }}
{{- end }}
{{- if .apiKeySecret.name }}
- name: LATTICE_EMBEDDINGS_API_KEY
  valueFrom:
    secretKeyRef:
      name: {{ .apiKeySecret.name | quote }}
      key: {{ .apiKeySecret.key | quote }}
{{- end }}
{{- end }}
{{- end }}
{{- with $values.answerModels }}
- name: RAG_ANSWER_MODELS
  value: {{ join "," . | quote }}
{{- end }}
- name: RAG_CONTEXT_BUDGET_TOKENS
  value: {{ $values.contextBudgetTokens | int64 | quote }}
- name: RAG_ANSWER_TIMEOUT_MS
  value: {{ mul $values.answerTimeoutSeconds 1000 | int64 | quote }}
- name: RAG_INGEST_CONCURRENCY
  value: {{ $values.ingest.concurrency | int64 | quote }}
- name: RAG_CHUNK_TOKENS
  value: {{ $values.ingest.chunkTokens | int64 | quote }}
- name: RAG_CHUNK_OVERLAP_TOKENS
  value: {{ $values.ingest.chunkOverlapTokens | int64 | quote }}
{{- else if eq .key "inferenceWorker" }}
- name: POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: INFERENCE_WORKER_QUEUE
  value: {{ $values.queue | quote }}
- name: INFERENCE_WORKER_CONCURRENCY
  value: {{ $values.concurrency | int64 | quote }}
- name: INFERENCE_ENDPOINT_SOURCE
  value: {{ $values.endpointSource | quote }}
- name: LATTICE_MODEL_ENDPOINTS
  value: {{ $values.modelEndpoints | quote }}
- name: INFERENCE_CALL_TIMEOUT_MS
  value: {{ $values.callTimeoutMs | int64 | quote }}
{{- else if eq .key "operator" }}
- name: POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: POD_NAMESPACE
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
- name: OPERATOR_LEASE_NAME
  value: {{ include "lattice.componentName" (dict "root" $root "app" "operator") | quote }}
- name: OPERATOR_PROMETHEUS_URLS
  value: {{ join "," $values.prometheusUrls | quote }}
{{- with $values.watchNamespace }}
- name: OPERATOR_WATCH_NAMESPACE
  value: {{ . | quote }}
{{- end }}
{{- end }}
{{- with $root.Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- with $values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}
