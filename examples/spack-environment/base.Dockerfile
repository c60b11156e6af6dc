# The base image of both stages: Spack (here the spack-kit image: real Spack v1.1.0, its package
# repo, a gcc) with this environment concretized at /opt/spack-environment, so builder and
# runtime read the same spack.lock. Build it with:
#   docker build -f base.Dockerfile --build-arg SPACK_IMAGE=eic-build-kit/spack:1.1.0 -t spack-environment-base:1 .
ARG SPACK_IMAGE=eic-build-kit/spack:1.1.0
FROM ${SPACK_IMAGE}
COPY spack.yaml /opt/spack-environment/spack.yaml
RUN set -eu; spack --env /opt/spack-environment concretize --force; rm -rf /root/.spack/cache
