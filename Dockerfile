# The `reconciler` command as a container image: the wheel built from this checkout, installed
# without the dev extra on a slim Python, run as an unprivileged user.
#
#   docker build -t audience-reconciler .
#   docker run --rm -v "$PWD:/project" -w /project --user "$(id -u):$(id -g)" \
#     -e RECONCILER_STATE_URL -e SELLIGENT_API_KEY -e SELLIGENT_API_SECRET \
#     audience-reconciler plan
#
# Credentials come in as environment variables (never baked into the image); the project is
# mounted, so the state file and saved plans land in it, owned by the --user given.
ARG PYTHON_VERSION=3.11

FROM python:${PYTHON_VERSION}-slim AS build
WORKDIR /src
COPY . .
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:${PYTHON_VERSION}-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
COPY --from=build /wheels /wheels
# The package and its runtime dependencies only: no dev extra, no editable install.
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
RUN useradd --create-home --uid 10001 --user-group reconciler
USER reconciler
WORKDIR /home/reconciler
ENTRYPOINT ["reconciler"]
CMD ["--help"]
