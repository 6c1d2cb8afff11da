"""Reflective diary, wellness plan and sharing them with supervisors."""
