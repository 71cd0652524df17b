"""Imports stored outputs of library generations (receiver of ``outputs_stored``)."""
