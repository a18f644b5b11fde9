package dev.gapstream.ops;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.introspect.Annotated;
import com.fasterxml.jackson.databind.introspect.JacksonAnnotationIntrospector;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.openshift.api.model.monitoring.v1.PodMonitor;
import io.fabric8.openshift.api.model.monitoring.v1.PrometheusRule;
import java.util.Map;
import java.util.Optional;

/**
 * Binds rendered manifests to fabric8's typed Kubernetes and Prometheus-Operator models, strictly.
 *
 * <p>fabric8 classes collect unknown fields in an "additionalProperties" any-setter, which would
 * let a misspelled field ({@code livenesProbe}) through. The introspector below hides those
 * any-setters, so an unknown field fails with its JSON path instead.
 */
final class StrictModel {

  /** Kinds with a typed model, keyed "apiVersion/kind". KEDA and Strimzi have none here. */
  static final Map<String, Class<? extends HasMetadata>> TYPES =
      Map.of(
          "v1/Namespace", Namespace.class,
          "v1/ServiceAccount", ServiceAccount.class,
          "v1/ConfigMap", ConfigMap.class,
          "v1/Service", Service.class,
          "apps/v1/Deployment", Deployment.class,
          "policy/v1/PodDisruptionBudget", PodDisruptionBudget.class,
          "networking.k8s.io/v1/NetworkPolicy", NetworkPolicy.class,
          "monitoring.coreos.com/v1/PodMonitor", PodMonitor.class,
          "monitoring.coreos.com/v1/PrometheusRule", PrometheusRule.class);

  private static final ObjectMapper MAPPER =
      JsonMapper.builder()
          .annotationIntrospector(new NoFabric8AnySetter())
          .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
          .build();

  private StrictModel() {}

  static String typeKey(JsonNode doc) {
    return doc.path("apiVersion").asText() + "/" + doc.path("kind").asText();
  }

  /** The typed object, or empty when the kind has no model; throws on any unknown field. */
  static Optional<HasMetadata> bind(JsonNode doc) throws Exception {
    Class<? extends HasMetadata> type = TYPES.get(typeKey(doc));
    return type == null ? Optional.empty() : Optional.of(MAPPER.treeToValue(doc, type));
  }

  static <T> T bind(JsonNode doc, Class<T> type) throws Exception {
    return MAPPER.treeToValue(doc, type);
  }

  private static final class NoFabric8AnySetter extends JacksonAnnotationIntrospector {
    private static final long serialVersionUID = 1L;

    @Override
    public Boolean hasAnySetter(Annotated a) {
      Class<?> owner = a.getRawType();
      if (a instanceof com.fasterxml.jackson.databind.introspect.AnnotatedMember member) {
        owner = member.getDeclaringClass();
      }
      if (owner.getName().startsWith("io.fabric8.")) {
        return Boolean.FALSE;
      }
      return super.hasAnySetter(a);
    }
  }
}
