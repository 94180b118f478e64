"""Spark sessions for geoplatform notebooks, with Sedona and the object store.

    from geoplatform_spark import session
    sedona = session()                 # local: the notebook's own cores
    sedona = session(executors=2)      # cluster: executors on the processing nodes, this kernel the driver

Static settings (Sedona, S3A endpoint, image, ports, spark.authenticate) come from spark-defaults.conf in
SPARK_CONF_DIR; this module adds what is known only in the pod: its address, the user's credentials and the
user's own executor namespace (NOTEBOOK_EXECUTOR_NAMESPACE, set by the hub).
"""

import os
import re
import secrets

from pyspark.sql import SparkSession
from sedona.spark import SedonaContext

KUBERNETES_MASTER = "k8s://https://kubernetes.default.svc:443"


def _credentials(builder):
    # The hub puts the user's temporary MinIO credentials in the environment; the Spark conf carries them to the
    # executors over Spark's RPC (not their pod spec), and Spark's UI redacts them (spark.redaction.regex).
    key, secret, token = (os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"))
    if not (key and secret):
        return builder
    builder = builder.config("spark.hadoop.fs.s3a.access.key", key).config("spark.hadoop.fs.s3a.secret.key", secret)
    if token:
        return builder.config("spark.hadoop.fs.s3a.session.token", token).config(
            "spark.hadoop.fs.s3a.aws.credentials.provider", "org.apache.hadoop.fs.s3a.TemporaryAWSCredentialsProvider"
        )
    return builder.config("spark.hadoop.fs.s3a.aws.credentials.provider", "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider")


def _pod_name_prefix(app_name):
    # Spark wants a DNS-1123 label that leaves room for "-exec-<Int.MaxValue>" in 63 characters, so at most 47
    # (apache/spark resource-managers/kubernetes Config.scala isValidExecutorPodNamePrefix): truncate, then strip,
    # so no "-" is left at the end. The random suffix keeps two kernels of one user (same app name) from
    # colliding on executor pod names in the user's namespace.
    user = os.environ.get("JUPYTERHUB_USER", "notebook")
    base = re.sub(r"[^a-z0-9-]+", "-", f"{user}-{app_name}".lower())[:40].strip("-") or "notebook"
    return f"{base}-{secrets.token_hex(2)}"


def session(app_name="notebook", executors=0, executor_cores=1, executor_memory="2g"):
    """A Sedona-enabled SparkSession: local when executors is 0, else client mode with that many executors."""
    builder = SparkSession.builder.appName(app_name)
    if executors:
        builder = (
            builder.master(KUBERNETES_MASTER)
            .config("spark.submit.deployMode", "client")
            # Executors reach the driver at the pod's IP (POD_IP, from the pod's status).
            .config("spark.driver.host", os.environ["POD_IP"])
            # The user's own namespace: the only one the notebook's ServiceAccount may create pods in.
            .config("spark.kubernetes.namespace", os.environ["NOTEBOOK_EXECUTOR_NAMESPACE"])
            .config("spark.executor.instances", str(executors))
            .config("spark.executor.cores", str(executor_cores))
            .config("spark.executor.memory", executor_memory)
            .config("spark.kubernetes.executor.podNamePrefix", _pod_name_prefix(app_name))
        )
    else:
        builder = builder.master("local[*]")
    return SedonaContext.create(_credentials(builder).getOrCreate())
