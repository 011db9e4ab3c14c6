"""Training progress as text: the line per epoch that the ``fit`` command and the training worker print."""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from fairgen_core.generator.training import EpochReport


class ProgressBar:
    """One self-rewriting terminal line per epoch (a plain line per epoch when not on a terminal).

    Parameters
    ----------
    stream : file-like
        Where to print (``sys.stderr`` for the CLI, ``sys.stdout`` for the worker's log).
    """

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.interactive = stream.isatty()

    def update(self, epoch: EpochReport) -> None:
        """Show one epoch: progress, validation FID and translation fidelity, losses, speed, ETA and any notice.

        Parameters
        ----------
        epoch : EpochReport
            What the training callback received.
        """
        done = int(20 * epoch.epoch / epoch.epochs)
        fid = "-" if epoch.val_fid is None else f"{epoch.val_fid:.3f} (best {epoch.best_fid:.3f})"
        eta = f"{int(epoch.eta_s // 60):02d}:{int(epoch.eta_s % 60):02d}"
        fidelity = "-" if epoch.val_translation is None else f"{epoch.val_translation:.2f}"
        line = (f"epoch {epoch.epoch}/{epoch.epochs} [{'#' * done}{'.' * (20 - done)}] val FID {fid} "
                f"translation {fidelity} G {epoch.losses.generator:.2f} D {epoch.losses.discriminator:.2f} "
                f"{epoch.rows_per_s:,.0f} rows/s ETA {eta}")
        if self.interactive:
            print("\r" + line, end="", file=self.stream, flush=True)
        else:
            print(line, file=self.stream, flush=True)
        if epoch.notice:
            print(("\n" if self.interactive else "") + f"notice: {epoch.notice}", file=self.stream, flush=True)

    def close(self) -> None:
        """End the self-rewriting line (nothing to do when not on a terminal)."""
        if self.interactive:
            print(file=self.stream)
