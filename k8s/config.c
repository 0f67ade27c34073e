/*
 * Where the Kubernetes API is and how to authenticate: a kubeconfig (the
 * current or a named context, its cluster and user), or the service account
 * of the pod flinkops runs in. Only what a client library needs is read; an
 * exec plugin or auth provider, which would mean running other programs, is
 * refused with a message rather than ignored.
 */
#include "k8s/k8s.h"

#include <libgen.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base64.h"
#include "lib/fs.h"
#include "lib/yaml.h"

#define KUBECONFIG_MAX (4u << 20)
#define SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

void k8s_config_free(k8s_config *c)
{
	if (!c)
		return;
	free(c->server);
	free(c->ca_file);
	free(c->ca_pem);
	free(c->cert_file);
	free(c->key_file);
	free(c->cert_pem);
	if (c->key_pem) {
		memset(c->key_pem, 0, strlen(c->key_pem));
		free(c->key_pem);
	}
	if (c->token) {
		memset(c->token, 0, strlen(c->token));
		free(c->token);
	}
	free(c->token_file);
	free(c->namespace);
	free(c->context);
	free(c);
}

/* The entry of a named list ("clusters", "users", "contexts") called `name`. */
static const fo_yaml_node *named(const fo_yaml_node *root, const char *list, const char *name, const char *field)
{
	const fo_yaml_node *l = fo_yaml_get(root, list);
	if (!l || l->kind != FO_YAML_SEQ)
		return NULL;
	for (size_t i = 0; i < l->n; i++) {
		const fo_yaml_node *n = fo_yaml_get(l->items[i], "name");
		if (n && n->kind == FO_YAML_SCALAR && strcmp(n->str, name) == 0) {
			const fo_yaml_node *v = fo_yaml_get(l->items[i], field);
			return v && v->kind == FO_YAML_MAP ? v : NULL;
		}
	}
	return NULL;
}

static const char *str(const fo_yaml_node *map, const char *key)
{
	const fo_yaml_node *v = fo_yaml_get(map, key);
	return v && v->kind == FO_YAML_SCALAR && !fo_yaml_is_null(v) ? v->str : NULL;
}

static char *resolve(const char *dir, const char *path)
{
	if (path[0] == '/' || !dir)
		return fo_strdup(path);
	return fo_asprintf("%s/%s", dir, path);
}

static int decode(const char *name, const char *field, const char *b64, char **out, fo_err *e)
{
	if (fo_base64_decode(b64, strlen(b64), out, NULL) < 0)
		return fo_err_set(e, FO_EINVAL, "%s: %s is not valid base64", name, field);
	return 0;
}

int k8s_config_from_kubeconfig_text(const char *name, const char *text, size_t len, const char *dir,
				    const char *context, k8s_config **out, fo_err *e)
{
	*out = NULL;
	fo_diags d = FO_DIAGS_INIT;
	fo_yaml_limits lim = {0};
	lim.max_bytes = KUBECONFIG_MAX;
	fo_yaml_file *f = NULL;
	k8s_config *c = NULL;
	int rc = fo_yaml_load(name, text, len, &lim, &f, &d);
	if (rc < 0) {
		char *m = fo_diag_format(&d.v[0]);
		rc = fo_err_set(e, rc, "%s", m);
		free(m);
		goto cleanup;
	}
	const fo_yaml_node *root = f->ndocs ? f->docs[0] : NULL;
	if (!root || root->kind != FO_YAML_MAP) {
		rc = fo_err_set(e, FO_EINVAL, "%s: not a kubeconfig (expected a mapping with clusters, users, contexts)", name);
		goto cleanup;
	}
	const char *ctx = context ? context : str(root, "current-context");
	if (!ctx) {
		rc = fo_err_set(e, FO_EINVAL, "%s: no current-context; name a context", name);
		goto cleanup;
	}
	const fo_yaml_node *cx = named(root, "contexts", ctx, "context");
	if (!cx) {
		rc = fo_err_set(e, FO_ENOTFOUND, "%s: context \"%s\" not found", name, ctx);
		goto cleanup;
	}
	const char *cluster_name = str(cx, "cluster"), *user_name = str(cx, "user");
	const fo_yaml_node *cl = cluster_name ? named(root, "clusters", cluster_name, "cluster") : NULL;
	if (!cl) {
		rc = fo_err_set(e, FO_ENOTFOUND, "%s: context \"%s\" names cluster \"%s\", which is not defined", name, ctx,
				cluster_name ? cluster_name : "");
		goto cleanup;
	}
	c = fo_calloc(1, sizeof(*c));
	c->context = fo_strdup(ctx);
	if (str(cx, "namespace"))
		c->namespace = fo_strdup(str(cx, "namespace"));
	const char *server = str(cl, "server");
	size_t scheme = !server ? 0 : fo_has_prefix(server, "https://") ? 8 : fo_has_prefix(server, "http://") ? 7 : 0;
	/* trailing slashes go, but never into the scheme: "https://" names no server */
	size_t sl = server ? strlen(server) : 0;
	while (sl > scheme && server[sl - 1] == '/')
		sl--;
	if (!scheme || sl == scheme) {
		rc = fo_err_set(e, FO_EINVAL, "%s: cluster \"%s\" has no https:// server", name, cluster_name);
		goto cleanup;
	}
	c->server = fo_strndup(server, sl);
	if (str(cl, "certificate-authority"))
		c->ca_file = resolve(dir, str(cl, "certificate-authority"));
	if (str(cl, "certificate-authority-data") &&
	    (rc = decode(name, "certificate-authority-data", str(cl, "certificate-authority-data"), &c->ca_pem, e)) < 0)
		goto cleanup;
	bool insecure = false;
	fo_yaml_as_bool(fo_yaml_get(cl, "insecure-skip-tls-verify"), &insecure);
	c->insecure = insecure;

	const fo_yaml_node *u = user_name ? named(root, "users", user_name, "user") : NULL;
	if (user_name && !u) {
		rc = fo_err_set(e, FO_ENOTFOUND, "%s: context \"%s\" names user \"%s\", which is not defined", name, ctx,
				user_name);
		goto cleanup;
	}
	if (u) {
		if (fo_yaml_get(u, "exec") || fo_yaml_get(u, "auth-provider")) {
			rc = fo_err_set(e, FO_EUNSUPPORTED,
					"%s: user \"%s\" authenticates with an exec plugin or auth provider, which flinkops "
					"does not run; give it a token, tokenFile or client certificate",
					name, user_name);
			goto cleanup;
		}
		if (str(u, "token"))
			c->token = fo_strdup(str(u, "token"));
		if (str(u, "tokenFile"))
			c->token_file = resolve(dir, str(u, "tokenFile"));
		if (str(u, "client-certificate"))
			c->cert_file = resolve(dir, str(u, "client-certificate"));
		if (str(u, "client-key"))
			c->key_file = resolve(dir, str(u, "client-key"));
		if (str(u, "client-certificate-data") &&
		    (rc = decode(name, "client-certificate-data", str(u, "client-certificate-data"), &c->cert_pem, e)) < 0)
			goto cleanup;
		if (str(u, "client-key-data") &&
		    (rc = decode(name, "client-key-data", str(u, "client-key-data"), &c->key_pem, e)) < 0)
			goto cleanup;
		if ((c->cert_file || c->cert_pem) != (c->key_file || c->key_pem)) {
			rc = fo_err_set(e, FO_EINVAL, "%s: user \"%s\" has a client certificate without its key, or a key without its certificate",
					name, user_name);
			goto cleanup;
		}
	}
	rc = 0;

cleanup:
	if (rc < 0) {
		k8s_config_free(c);
		c = NULL;
	}
	*out = c;
	fo_yaml_file_free(f);
	fo_diags_free(&d);
	return rc;
}

int k8s_config_from_kubeconfig(const char *path, const char *context, k8s_config **out, fo_err *e)
{
	char *text = NULL;
	size_t len = 0;
	*out = NULL;
	int rc = fo_fs_read(path, KUBECONFIG_MAX, &text, &len, e);
	if (rc < 0)
		return fo_err_prefix(e, "kubeconfig");
	char *copy = fo_strdup(path);
	rc = k8s_config_from_kubeconfig_text(path, text, len, dirname(copy), context, out, e);
	free(copy);
	free(text);
	return rc;
}

int k8s_config_in_cluster(k8s_config **out, fo_err *e)
{
	*out = NULL;
	const char *host = getenv("KUBERNETES_SERVICE_HOST"), *port = getenv("KUBERNETES_SERVICE_PORT");
	if (!host || !*host || !port || !*port)
		return fo_err_set(e, FO_ENOTFOUND,
				  "not inside a pod: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set; "
				  "use a kubeconfig instead");
	const char *dir = getenv("FLINKOPS_SERVICEACCOUNT_DIR");
	if (!dir || !*dir)
		dir = SA_DIR;
	k8s_config *c = fo_calloc(1, sizeof(*c));
	/* an IPv6 service address needs brackets in a URL */
	c->server = strchr(host, ':') ? fo_asprintf("https://[%s]:%s", host, port) : fo_asprintf("https://%s:%s", host, port);
	c->token_file = fo_asprintf("%s/token", dir);
	c->ca_file = fo_asprintf("%s/ca.crt", dir);
	c->context = fo_strdup("in-cluster");
	char *ns = NULL;
	fo_err ignore = FO_ERR_INIT;
	char *nsfile = fo_asprintf("%s/namespace", dir);
	if (fo_fs_read(nsfile, 256, &ns, NULL, &ignore) == 0) {
		ns[strcspn(ns, "\r\n")] = '\0';
		c->namespace = ns;
	}
	free(nsfile);
	fo_err_clear(&ignore);
	char *tok = NULL;
	int rc = fo_fs_read(c->token_file, 64 * 1024, &tok, NULL, e);
	free(tok);
	if (rc < 0) {
		k8s_config_free(c);
		return fo_err_prefix(e, "service account token");
	}
	*out = c;
	return 0;
}
