{{/*
The chart name, or nameOverride.
*/}}
{{- define "tinyhost.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The full name of the release's objects: fullnameOverride, else the release name when it
already contains the chart name, else "<release>-<chart>"; at most 63 characters.
*/}}
{{- define "tinyhost.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Chart name and version, for the helm.sh/chart label.
*/}}
{{- define "tinyhost.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The module name: required, and a DNS-1123 label, since it names the TinyModule and the
Lease and labels every object.
*/}}
{{- define "tinyhost.module" -}}
{{- $module := required "module.name is required: the name of the Tiny Systems module this release runs (e.g. --set module.name=common-module)" .Values.module.name }}
{{- if not (regexMatch "^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$" $module) }}
{{- fail (printf "module.name %q is not a DNS-1123 label (lower-case letters, digits and '-', at most 63 characters, starting and ending with a letter or digit)" $module) }}
{{- end }}
{{- $module }}
{{- end }}

{{/*
The module version: module.version, else the chart's appVersion, without a leading "v".
*/}}
{{- define "tinyhost.moduleVersion" -}}
{{- default .Chart.AppVersion .Values.module.version | toString | trimPrefix "v" }}
{{- end }}

{{/*
The container image.
*/}}
{{- define "tinyhost.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag | toString) }}
{{- end }}

{{/*
Selector labels: what the Service and the Deployment select pods by.
*/}}
{{- define "tinyhost.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tinyhost.name" . | quote }}
app.kubernetes.io/instance: {{ .Release.Name | quote }}
{{- end }}

{{/*
Labels of every object.
*/}}
{{- define "tinyhost.labels" -}}
helm.sh/chart: {{ include "tinyhost.chart" . | quote }}
{{ include "tinyhost.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | toString | trunc 63 | trimSuffix "-" | quote }}
app.kubernetes.io/component: operator
app.kubernetes.io/part-of: tinysystems
app.kubernetes.io/managed-by: {{ .Release.Service | quote }}
tinysystems.io/module: {{ include "tinyhost.module" . | quote }}
{{- end }}

{{/*
The ServiceAccount the pods run as.
*/}}
{{- define "tinyhost.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "tinyhost.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
The address other modules dial: the Service's DNS name and gRPC port.
*/}}
{{- define "tinyhost.serviceHost" -}}
{{- printf "%s.%s.svc.%s:%v" (include "tinyhost.fullname" .) .Release.Namespace .Values.clusterDomain .Values.ports.grpc }}
{{- end }}

{{/*
Where componentsConfigMap is mounted.
*/}}
{{- define "tinyhost.configMapComponentsPath" -}}
/etc/tinyhost/components
{{- end }}

{{/* Where the registry credentials Secret is mounted. */}}
{{- define "tinyhost.registryCredentialsPath" -}}
/etc/tinyhost/registry
{{- end }}

{{/*
The host of the Ingress's placeholder rule. Kubernetes accepts an Ingress only with a rule
or a default backend; a default backend would take every request for a host no server
claims (on some controllers, for the whole cluster), so the Ingress carries one rule
instead, for a name under `.invalid`, which never resolves, with no paths.
*/}}
{{- define "tinyhost.ingressPlaceholderHost" -}}
{{- printf "%s.%s.invalid" (include "tinyhost.fullname" .) .Release.Namespace }}
{{- end }}
