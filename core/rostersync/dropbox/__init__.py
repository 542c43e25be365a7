"""Drop boxes: a per-school SFTP upload account on this machine's own OpenSSH, provisioned from the CLI.

``rostersync dropbox create SCHOOL`` makes a system account that can do one thing: log in over SFTP
(password or key), chrooted to its own root-owned folder, and write into the one upload folder in
it. Its sshd settings are one ``Match User`` block in one file under ``sshd_config.d``, checked with
``sshd -t`` and read back with ``sshd -T`` (what sshd will really apply to that user) before sshd is
reloaded. The school's ``dropbox``-kind connector is enabled on the upload folder, so what the
district uploads is imported with the drop rules of the ``sftp`` kind.

Modules: :mod:`.host` (the ``[dropbox]`` settings: root folder, name prefix, sshd paths),
:mod:`.names` (school id to account name), :mod:`.system` (accounts, folders, rights),
:mod:`.sshd` (the Match block, validation, reload), :mod:`.provision` (create, rotate, remove,
list), :mod:`.instructions` (what to send the district), :mod:`.commands` (the CLI).
"""
