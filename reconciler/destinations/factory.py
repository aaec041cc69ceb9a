"""Building destination adapters and observers from Destination manifests.

The one place where manifest settings meet the clients: environment references are resolved
here, when a destination is actually used (a missing variable is then a clear error).
"""
from __future__ import annotations

from pathlib import Path

from reconciler.clock import SYSTEM_CLOCK, Clock
from reconciler.destinations.actito.adapter import ActitoAdapter
from reconciler.destinations.actito.exports import ProfileExport
from reconciler.destinations.actito.limits import ActitoLimits
from reconciler.destinations.actito.observer import ActitoObserver
from reconciler.destinations.actito.routes import RouteBook
from reconciler.destinations.actito.transfer import FileTransferSettings, TransferProtocol
from reconciler.destinations.actito.writer import ActitoWriter
from reconciler.destinations.base import DestinationObserver, DestinationWriter
from reconciler.destinations.hosts import check_host
from reconciler.destinations.selligent.adapter import SelligentAdapter
from reconciler.destinations.selligent.observer import SelligentObserver
from reconciler.destinations.selligent.transport import SelligentLimits
from reconciler.destinations.selligent.writer import SelligentWriter
from reconciler.errors import ReconcilerError
from reconciler.manifests.models import ActitoDestination, SelligentDestination
from reconciler.manifests.values import parse_duration, resolve_env_ref, resolve_maybe_env

FTPS_PORT, SFTP_PORT = 21, 22


def open_selligent_adapter(name: str, spec: SelligentDestination) -> SelligentAdapter:
    where = f"destination {name!r}"
    # Concurrency has one owner, the writer: it sends `concurrency` batches at once, each
    # batch one call (the client splits one only past the byte limit, then one chunk at a
    # time); the pool holds a connection per batch in flight.
    limits = SelligentLimits(max_rows_per_call=spec.limits.max_rows_per_load,
                             initial_rows_per_call=spec.limits.initial_rows_per_load,
                             max_in_flight=1,
                             connections=max(10, spec.limits.concurrency),
                             requests_per_second=spec.limits.pace_per_second())
    base_url = resolve_maybe_env(spec.base_url, f"{where} spec.baseUrl")
    check_host(base_url, "selligent", f"{where} spec.baseUrl")  # before any credential
    return SelligentAdapter(
        base_url=base_url,
        organization=spec.organization,
        list_api_name=spec.list,
        api_key=resolve_env_ref(spec.credentials.api_key, f"{where} spec.credentials.apiKey"),
        api_secret=resolve_env_ref(spec.credentials.api_secret,
                                   f"{where} spec.credentials.apiSecret"),
        limits=limits,
    )


def open_actito_adapter(name: str, spec: ActitoDestination, manifest_dir: Path) -> ActitoAdapter:
    where = f"destination {name!r}"
    transfer = spec.file_transfer
    base_url = resolve_maybe_env(spec.base_url, f"{where} spec.baseUrl")
    check_host(base_url, "actito", f"{where} spec.baseUrl")  # before any credential
    check_host(transfer.host, "actito file transfer", f"{where} spec.fileTransfer.host")
    protocol = TransferProtocol(transfer.protocol.value)
    settings = FileTransferSettings(
        protocol=protocol,
        host=transfer.host,
        port=transfer.port or (FTPS_PORT if protocol is TransferProtocol.FTPS else SFTP_PORT),
        username=transfer.username,
        password=resolve_env_ref(transfer.password, f"{where} spec.fileTransfer.password")
        if transfer.password else None,
        private_key=resolve_env_ref(transfer.private_key,
                                    f"{where} spec.fileTransfer.privateKey")
        if transfer.private_key else None,
        directory=transfer.directory,
        ca_file=_trusted_certificates(where, manifest_dir, transfer.ca_file),
        host_key=transfer.host_key,
    )
    return ActitoAdapter(
        base_url=base_url,
        entity=spec.entity,
        profile_table=spec.profile_table,
        api_key=resolve_env_ref(spec.credentials.api_key, f"{where} spec.credentials.apiKey"),
        transfer=settings,
        location_id=transfer.location.id if transfer.location else None,
        location_name=transfer.location.name if transfer.location else None,
        export=ProfileExport(
            spec.profile_export.file_name_pattern,
            spec.profile_export.directory or transfer.directory,
            parse_duration(spec.profile_export.max_age)) if spec.profile_export else None,
        routes=RouteBook.for_destination(spec, where),
        limits=ActitoLimits(max_in_flight=spec.limits.in_flight(),
                            calls_per_minute=spec.limits.calls_per_minute()),
    )


def _trusted_certificates(where: str, manifest_dir: Path, ca_file: str | None) -> Path | None:
    """The FTPS `caFile`, relative to the manifest. One that does not exist is said when the
    destination is opened (before a plan reads anything), naming the field: ssl's bare "No
    such file or directory" would otherwise surface as a refused upload halfway through an
    apply, e.g. with a sandbox started on another --data-dir, which keeps its certificate
    there."""
    if ca_file is None:
        return None
    path = (manifest_dir / ca_file).resolve()
    if not path.is_file():
        raise ReconcilerError(
            f"{where} spec.fileTransfer.caFile: {ca_file} ({path}) does not exist",
            hint="point caFile at the certificate(s) the FTPS server is to be trusted by; "
            "`reconciler sandbox` writes its own to <data-dir>/actito/ftps-cert.pem (the "
            "default data dir: .reconciler/sandbox) and prints where")
    return path


def open_writer(
    name: str, spec: SelligentDestination | ActitoDestination, manifest_dir: Path
) -> DestinationWriter:
    if isinstance(spec, SelligentDestination):
        return SelligentWriter(open_selligent_adapter(name, spec), spec.limits.max_rows_per_load,
                               concurrency=spec.limits.concurrency)
    return ActitoWriter(open_actito_adapter(name, spec, manifest_dir))


def open_observer(
    name: str, spec: SelligentDestination | ActitoDestination, manifest_dir: Path,
    clock: Clock = SYSTEM_CLOCK,
) -> DestinationObserver:
    """`clock` says when "now" is (whether an Actito key file has expired)."""
    if isinstance(spec, SelligentDestination):
        return SelligentObserver(open_selligent_adapter(name, spec))
    return ActitoObserver(open_actito_adapter(name, spec, manifest_dir), clock)
