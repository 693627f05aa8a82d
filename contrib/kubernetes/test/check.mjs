// check.mjs: the offline check of contrib/kubernetes (make k8s-check).
//
//   node check.mjs validate DIR   every resource of DIR/kustomization.yaml
//                                 against the Kubernetes schemas, then the
//                                 rules issue 19 sets for the CronJob
//   node check.mjs settings DIR   print the ConfigMap's settings.yml, for
//                                 pgbak-run -n
//
// The schemas are kubernetes-models' validate(): it checks types, enums
// and required fields, but lets unknown keys through, so the rules below
// also read the fields that matter by name: a misspelt one is missing.
// Exit status: 0 valid, 1 invalid, 100 usage, 111 a file unreadable.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import yaml from "js-yaml";

const die = (status, msg) => {
	console.error(`check.mjs: ${msg}`);
	process.exit(status);
};

// load(DIR): the kustomization's resources as [{file, doc}].
function load(dir) {
	let kust, docs = [];
	try {
		kust = yaml.load(readFileSync(join(dir, "kustomization.yaml"), "utf8"));
		if (kust?.kind !== "Kustomization" || !Array.isArray(kust.resources))
			die(1, `${dir}/kustomization.yaml: not a Kustomization with resources`);
		for (const file of kust.resources)
			for (const doc of yaml.loadAll(readFileSync(join(dir, file), "utf8")))
				if (doc) docs.push({ file, doc });
	} catch (e) {
		die(e.code === "ENOENT" || e.code === "EACCES" ? 111 : 1, e.message);
	}
	return docs;
}

// model(DOC): kubernetes-models' class for the document's apiVersion and kind.
async function model(doc) {
	if (typeof doc.apiVersion !== "string" || !/^[A-Za-z]+$/.test(doc.kind ?? ""))
		throw new Error("no apiVersion or kind");
	try {
		return (await import(`kubernetes-models/${doc.apiVersion}/${doc.kind}`))[doc.kind];
	} catch {
		throw new Error(`unknown apiVersion/kind ${doc.apiVersion}/${doc.kind}`);
	}
}

const find = (docs, kind, name) =>
	docs.find((d) => d.doc.kind === kind && d.doc.metadata?.name === name)?.doc;

// rules(DOCS): what issue 19 asks of the CronJob, as a list of failures.
function rules(docs) {
	const bad = [];
	const need = (cond, msg) => cond || bad.push(msg);
	const crons = docs.filter((d) => d.doc.kind === "CronJob");
	need(crons.length === 1, "not exactly one CronJob");
	for (const { file, doc } of crons) {
		const at = (msg) => `${file}: ${doc.metadata?.name}: ${msg}`;
		const job = doc.spec?.jobTemplate?.spec ?? {};
		const pod = job.template?.spec ?? {};
		need(doc.spec?.concurrencyPolicy === "Forbid", at("concurrencyPolicy is not Forbid"));
		need(job.activeDeadlineSeconds > 0, at("no activeDeadlineSeconds"));
		need(Number.isInteger(job.backoffLimit), at("no backoffLimit"));
		need(pod.securityContext?.runAsNonRoot === true, at("runAsNonRoot is not true"));
		need(pod.automountServiceAccountToken === false, at("the API token is mounted"));

		const sa = find(docs, "ServiceAccount", pod.serviceAccountName);
		need(/^arn:aws:iam::/.test(sa?.metadata?.annotations?.["eks.amazonaws.com/role-arn"]),
			at(`ServiceAccount ${pod.serviceAccountName} has no IRSA role-arn annotation`));

		const vols = Object.fromEntries((pod.volumes ?? []).map((v) => [v.name, v]));
		for (const c of pod.containers ?? []) {
			const cat = (msg) => at(`container ${c.name}: ${msg}`);
			need(c.securityContext?.readOnlyRootFilesystem === true,
				cat("readOnlyRootFilesystem is not true"));
			need(c.securityContext?.allowPrivilegeEscalation === false,
				cat("allowPrivilegeEscalation is not false"));
			need(c.resources?.requests?.memory && c.resources?.requests?.cpu,
				cat("no cpu and memory requests"));
			for (const e of c.env ?? []) {
				need(!/^AWS_(ACCESS_KEY_ID|SECRET_ACCESS_KEY|SESSION_TOKEN)$/.test(e.name),
					cat(`${e.name}: keys are for IRSA to give, not to store`));
				const ref = e.valueFrom?.secretKeyRef;
				if (ref) {
					const s = find(docs, "Secret", ref.name);
					need(s && ref.key in { ...s.data, ...s.stringData },
						cat(`${e.name}: no Secret ${ref.name} with key ${ref.key}`));
				}
			}
			const mounts = c.volumeMounts ?? [];
			const cm = mounts.map((m) => ({ m, v: vols[m.name] })).find(({ v }) => v?.configMap);
			const cmap = cm && find(docs, "ConfigMap", cm.v.configMap.name);
			need(cmap?.data?.["settings.yml"], cat("no ConfigMap with settings.yml mounted"));
			if (!cmap?.data?.["settings.yml"]) continue;
			need(c.args?.includes(`${cm.m.mountPath}/settings.yml`),
				cat(`pgbak-run is not given ${cm.m.mountPath}/settings.yml`));
			let tmp;
			try {
				tmp = yaml.load(cmap.data["settings.yml"])?.tasks?.postgres?.temp_dir;
			} catch (e) {
				bad.push(cat(`settings.yml: ${e.message}`));
				continue;
			}
			const tm = mounts.find((m) => m.mountPath === tmp);
			need(tm && vols[tm.name]?.emptyDir && !tm.readOnly,
				cat(`temp_dir ${tmp} is not a writable emptyDir mount`));
		}
	}
	return bad;
}

const [verb, dir] = process.argv.slice(2);
if (!dir || !["validate", "settings"].includes(verb))
	die(100, "usage: node check.mjs validate|settings DIR");
const docs = load(dir);

if (verb === "settings") {
	const s = docs.find((d) => d.doc.kind === "ConfigMap" && d.doc.data?.["settings.yml"]);
	if (!s) die(1, `${dir}: no ConfigMap with settings.yml`);
	process.stdout.write(s.doc.data["settings.yml"]);
	process.exit(0);
}

let bad = [];
for (const { file, doc } of docs) {
	try {
		const M = await model(doc);
		new M(doc).validate();
		console.log(`${file}: ${doc.apiVersion} ${doc.kind} ${doc.metadata?.name}: valid`);
	} catch (e) {
		bad.push(`${file}: ${doc.kind ?? "?"} ${doc.metadata?.name ?? "?"}: ${e.message}`);
	}
}
bad = bad.concat(rules(docs));
for (const b of bad) console.error(`check.mjs: ${b}`);
process.exit(bad.length ? 1 : 0);
